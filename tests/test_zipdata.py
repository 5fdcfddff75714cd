import io
import re
import stat
import struct
import warnings
import zipfile
import zlib
from pathlib import PurePosixPath

import numpy as np
import pytest
from PIL import Image

from core.data import zipdata
from core.data.zipdata import ZipDataError, ZipLimits, extract_class_folders, inspect_zip, load_class_folders

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP"}


def image_bytes(suffix: str = ".png", seed: int = 0, side: int = 16) -> bytes:
    """A small picture of noise in the format of ``suffix`` (noise does not compress: no bomb alarm)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=FORMATS[suffix])
    return buf.getvalue()


def class_files(counts: dict[str, int], root: str = "") -> dict[str, bytes]:
    """``{root}{class}/{i}{suffix}`` -> image bytes, cycling through the formats."""
    suffixes = list(FORMATS)
    files = {}
    for c, (name, n) in enumerate(counts.items()):
        for i in range(n):
            suffix = suffixes[(c + i) % len(suffixes)]
            files[f"{root}{name}/{i}{suffix}"] = image_bytes(suffix, seed=100 * c + i)
    return files


def make_zip(files: dict[str, bytes], entries: tuple[tuple[zipfile.ZipInfo, bytes], ...] = ()) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # "Duplicate name": one test wants one
        for name, data in files.items():
            zf.writestr(name, data)
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in a few dozen bytes: a decompression bomb's header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def patch_central_directory(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """Rewrite one field of ``name``'s entry in the zip's table of contents (what zipfile trusts)."""
    at = data.rindex(name.encode()) - 46  # the table of contents comes last; the name follows 46 bytes of fields
    assert data[at : at + 4] == b"PK\x01\x02"
    out = bytearray(data)
    struct.pack_into(fmt, out, at + offset, value)
    return bytes(out)


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def assert_nothing_written(target):
    assert not target.exists()
    assert not target.parent.exists() or not any(target.parent.iterdir())  # no staging folder left behind


GOOD = {"cat": 5, "dog": 6, "hot-dog (food)!": 5}


def test_class_names_keep_letters_digits_spaces_dashes_and_underscores():
    assert zipdata.clean_name("  hot-dog (food)!\t2 ") == "hot-dog food 2"
    assert zipdata.clean_name("cafe\u0301_au lait") == "caf\u00e9_au lait"  # macOS writes the accent apart
    assert zipdata.clean_name("../..") == ""
    assert len(zipdata.clean_name("x" * 300)) == zipdata.NAME_LENGTH


def test_top_level_class_folders_extract_with_their_counts(tmp_path):
    files = class_files(GOOD)
    data = make_zip(files)
    summary = inspect_zip(data)
    assert summary.classes == {"cat": 5, "dog": 6, "hot-dog food": 5}
    assert summary.n_images == 16 and summary.root == "" and summary.skipped == ()
    assert summary.total_bytes == sum(len(b) for b in files.values())

    target = tmp_path / "sets" / "pets"
    assert extract_class_folders(data, target) == summary
    assert sorted(p.name for p in target.iterdir()) == ["cat", "dog", "hot-dog food"]
    assert {p.name: len(list(p.iterdir())) for p in target.iterdir()} == summary.classes
    assert (target / "dog" / "00002_2.gif").read_bytes() == files["dog/2.gif"]
    assert [p.name for p in tmp_path.joinpath("sets").iterdir()] == ["pets"]  # no staging folder left

    paths, labels, names = load_class_folders(target)
    assert names == ["cat", "dog", "hot-dog food"]
    assert len(paths) == 16 and np.bincount(labels).tolist() == [5, 6, 5]
    assert all(p.parent.name == names[label] for p, label in zip(paths, labels))


def test_single_root_folder_from_a_path_with_system_files_skipped(tmp_path):
    files = class_files({"cat": 5, "dog": 5}, root="animals/")
    junk = {"__MACOSX/animals/cat/._0.png": b"\0\5\26\7", "animals/.DS_Store": b"\0\0\0\1Bud1",
            "animals/dog/Thumbs.db": b"\xd0\xcf\x11\xe0", "animals/": b""}
    path = tmp_path / "upload.zip"
    path.write_bytes(make_zip(files | junk))
    summary = extract_class_folders(path, tmp_path / "data")
    assert summary.root == "animals"
    assert summary.classes == {"cat": 5, "dog": 5}
    assert sorted(summary.skipped) == sorted(set(junk) - {"animals/"})
    extracted = [p.relative_to(tmp_path / "data").as_posix() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    in_zip = [PurePosixPath(name) for name in files]  # animals/cat/3.bmp -> cat/00003_3.bmp
    assert sorted(extracted) == sorted(f"{p.parent.name}/{int(p.stem):05d}_{p.name}" for p in in_zip)


def test_an_existing_target_is_replaced_only_on_success(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    (target / "old.txt").write_text("the previous data set")
    bad = make_zip(class_files(GOOD) | {"cat/9.png": b"not a picture"})  # fails while the images are read
    with pytest.raises(ZipDataError, match="usable"):
        extract_class_folders(bad, target)
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["data"]

    extract_class_folders(make_zip(class_files(GOOD)), target)
    assert sorted(p.name for p in target.iterdir()) == ["cat", "dog", "hot-dog food"]
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def good(**extra: bytes) -> dict[str, bytes]:
    return class_files(GOOD) | extra


BAD_ZIPS = {
    "not a zip": (lambda: b"this is a text file, not a zip", None, "not a zip archive"),
    "truncated zip": (lambda: make_zip(good())[:3000], None, "not a zip archive"),
    "upload over the cap": (lambda: make_zip(good()), ZipLimits(max_zip_bytes=2048),
                            r"zip is \d+ KB; the limit is 2 KB"),
    "too many files": (lambda: make_zip(good()), ZipLimits(max_files=10), "holds 16 files; the limit is 10"),
    "dot-dot path": (lambda: make_zip(good(**{"cat/../../evil.png": image_bytes()})), None, "outside the folder"),
    "absolute path": (lambda: make_zip(good(**{"/tmp/evil.png": image_bytes()})), None, "absolute path"),
    "drive letter": (lambda: make_zip(good(**{"C:\\evil.png": image_bytes()})), None, "drive letter"),
    "symlink": (lambda: make_zip(good(), ((symlink("cat/link.png"), b"/etc/passwd"),)), None,
                "'cat/link.png' is a symbolic link"),
    "password": (lambda: patch_central_directory(make_zip(good()), "dog/1.bmp", 8, "<H", 0x1), None,
                 "'dog/1.bmp' is protected by a password"),
    "not an image file": (lambda: make_zip(good(**{"cat/notes.txt": b"hello"})), None,
                          "'cat/notes.txt' is not an image file"),
    "fake png": (lambda: make_zip(good(**{"dog/fake.png": b"hello, not a png"})), None,
                 "'dog/fake.png' is not a usable image"),
    "pixel bomb in a png": (lambda: make_zip(good(**{"cat/huge.png": png_header_only(20_000, 20_000)})), None,
                            "'cat/huge.png' is not a usable image: the image is too large .* megapixels"),
    "zip bomb": (lambda: make_zip(good(), ((deflated("cat/zeros.bmp"), bytes(8 * 2**20)),)), None,
                 "'cat/zeros.bmp' expands .* times .* zip bomb"),
    "many small bombs": (lambda: make_zip(good(), tuple((deflated(f"dog/z{i}.bmp"), bytes(900_000)) for i in range(4))),
                         None, "zip as a whole expands .* zip bomb"),  # each under BOMB_CHECK_FROM
    "total over the cap": (lambda: make_zip(good()), ZipLimits(max_total_bytes=4096), "add up to .* limit is 4 KB"),
    "image over the cap": (lambda: make_zip(good()), ZipLimits(max_file_bytes=200), "the limit per image"),
    "file outside the class folders": (lambda: make_zip(good(**{"readme.png": image_bytes()})), None,
                                       "'readme.png' is not inside a class folder"),
    "subfolder in a class": (lambda: make_zip(good(**{"cat/kittens/1.png": image_bytes()})), None,
                             "'cat/kittens/1.png' is in a subfolder"),
    "the same name twice": (lambda: make_zip(good(), ((deflated("cat/0.png"), image_bytes()),)), None,
                            "'cat/0.png' appears twice"),
    "classes that clean to one name": (lambda: make_zip(class_files({"Cat": 5, "cat!": 5})), None,
                                       "same class name, 'cat'"),
    "a class name of symbols": (lambda: make_zip(class_files({"cat": 5, "???": 5})), None,
                                "'[?]{3}' has no letters or digits"),
    "no images": (lambda: make_zip({"__MACOSX/._a.png": b"x", "empty/": b""}), None, "holds no images"),
    "one class only": (lambda: make_zip(class_files({"cat": 9})), None, r"only 1 class \('cat'\).* at least 2"),
    "too many classes": (lambda: make_zip(good()), ZipLimits(max_classes=2), "3 class folders; the limit is 2"),
    "too few images": (lambda: make_zip(class_files({"cat": 5, "dog": 3, "bird": 1})), None,
                       r"too few in: bird \(1\), dog \(3\)\.$"),
}


@pytest.mark.parametrize("case", BAD_ZIPS)
def test_a_bad_zip_is_refused_with_its_own_message_and_nothing_is_written(tmp_path, case):
    build, limits, pattern = BAD_ZIPS[case]
    data, limits = build(), limits or ZipLimits()
    with pytest.raises(ZipDataError, match=pattern) as inspected:
        inspect_zip(data, limits)
    target = tmp_path / "sets" / "data"
    with pytest.raises(ZipDataError) as extracted:
        extract_class_folders(data, target, limits)
    assert str(extracted.value) == str(inspected.value)
    assert_nothing_written(target)


def test_each_problem_has_a_message_of_its_own():
    messages = {}
    for case, (build, limits, _) in BAD_ZIPS.items():
        with pytest.raises(ZipDataError) as e:
            inspect_zip(build(), limits or ZipLimits())
        messages[case] = re.sub(r"'[^']*'", "'...'", str(e.value))  # without the file names
    # Cases that are the same problem by design share a message: a non-zip and a cut-off zip.
    assert len(set(messages.values())) == len(messages) - 1, messages


def test_a_zip_that_lies_about_a_file_size_is_caught_while_unzipping(tmp_path):
    files = good()
    data = make_zip(files)
    # The table of contents says dog/1.bmp is 100 bytes; its data is longer. The read stops at 100 bytes.
    lying = patch_central_directory(data, "dog/1.bmp", 24, "<I", 100)
    with pytest.raises(ZipDataError, match="'dog/1.bmp' could not be unzipped .* damaged"):
        inspect_zip(lying)
    with pytest.raises(ZipDataError, match="damaged"):
        extract_class_folders(lying, tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


class EndlessFile:
    """A zip member that never ends, as a crafted zip could serve: reading it whole would fill the memory."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n: int = -1) -> bytes:
        assert n >= 0, "the whole member was asked for, with no byte limit"
        return bytes(n)


def test_a_file_is_never_read_past_its_declared_size(monkeypatch, tmp_path):
    data = make_zip(good())
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info, *args, **kwargs: EndlessFile())
    with pytest.raises(ZipDataError, match="'cat/0.png' holds more data than the zip declares"):
        inspect_zip(data)
    with pytest.raises(ZipDataError, match="more data"):
        extract_class_folders(data, tmp_path / "data")
    assert_nothing_written(tmp_path / "data")


def test_the_limits_default_to_the_apps_picture_limits():
    from core.images import preprocess

    assert zipdata.DEFAULT_LIMITS.max_file_bytes == preprocess.MAX_UPLOAD_BYTES
    assert zipdata.DEFAULT_LIMITS.max_pixels == preprocess.MAX_PIXELS
