"""Use a zip of class folders as an image data set, checked before anything is written.

For transfer learning a student brings their own pictures as a zip with one
folder per class: ``cat/1.jpg``, ``dog/2.png``, or the same under one root
folder, ``animals/cat/1.jpg``. An uploaded zip is untrusted input: it may hold
paths that point outside the folder it is unpacked into, symbolic links, files
that are not pictures, or a "zip bomb" that expands a few kilobytes into
gigabytes. So the zip is read in two passes:

1. its table of contents is checked (the upload's size, the number of files,
   every path, each file's type, size and how much it expands, the class
   folders and how many images each holds), without unpacking anything;
2. each image is unpacked into memory, never past the size the zip declares
   for it, and decoded with Pillow (through ``preprocess.decode_image``, the
   app's one way to read an uploaded picture) to prove it is a real image.

``inspect_zip`` runs both passes and writes nothing. ``extract_class_folders``
writes the checked images into a temporary folder next to the target and
renames it into place only when every image passed, so a bad zip leaves the
target as it was. Every problem is a ``ZipDataError`` whose message says, in
plain words, what is wrong and with which file.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.base.files import replace_folder
from core.images.preprocess import IMAGE_SUFFIXES, MAX_PIXELS, MAX_UPLOAD_BYTES, InputError, decode_image

MB = 2**20
SYSTEM_NAMES = {"__macosx", "thumbs.db", "desktop.ini"}  # lower case; hidden names (".DS_Store") are skipped too
# Files smaller than this cannot do harm whatever they expand to (a flat-colour BMP packs 1000 to 1).
BOMB_CHECK_FROM = 1 * MB
NAME_LENGTH = 60  # class and file names are cut to this many characters
# Every entry of a zip's table of contents starts with this signature, so counting it in the raw bytes
# bounds the number of entries before ``zipfile`` parses, and keeps in memory, every one of them
# (a 200 MB zip of empty files holds over two million; the count in the zip's end record can lie).
CENTRAL_DIRECTORY_SIGNATURE = b"PK\x01\x02"

Source = bytes | str | os.PathLike
Member = tuple[zipfile.ZipInfo, str]  # an image in the zip and its path in the extracted folder


class ZipDataError(ValueError):
    """The zip cannot be used as a data set; the message says why, in plain words."""


@dataclass(frozen=True)
class ZipLimits:
    """What an uploaded zip may hold. Sizes are in bytes."""

    max_zip_bytes: int = 200 * MB  # the upload itself, compressed (Streamlit's default upload limit)
    max_total_bytes: int = 500 * MB  # all the images together, uncompressed
    max_file_bytes: int = MAX_UPLOAD_BYTES  # one image: the app's limit for any uploaded picture
    max_pixels: int = MAX_PIXELS  # one image, read from its header before it is decoded
    max_ratio: float = 100.0  # uncompressed / compressed size, of one file or of all the images
    max_files: int = 20_000  # entries in the zip, folders and system files included
    min_classes: int = 2
    max_classes: int = 50
    min_images_per_class: int = 5


DEFAULT_LIMITS = ZipLimits()


@dataclass(frozen=True)
class ZipSummary:
    """What a zip holds: its classes with their image counts, and the images' total size."""

    classes: dict[str, int]  # class name (cleaned, as extracted) -> number of images, sorted by name
    total_bytes: int  # the images' uncompressed size
    root: str = ""  # the folder the class folders sit in inside the zip; "" when they are at the top
    skipped: tuple[str, ...] = ()  # system files left out: __MACOSX/, .DS_Store, Thumbs.db, hidden files

    @property
    def n_images(self) -> int:
        return sum(self.classes.values())


def inspect_zip(source: Source, limits: ZipLimits = DEFAULT_LIMITS) -> ZipSummary:
    """Check a zip of class folders, every image decoded, and say what it holds. Nothing is written."""
    with open_zip(source, limits) as archive:
        summary, members = plan_members(archive, limits)
        for _ in read_images(archive, members, limits):
            pass
    return summary


def extract_class_folders(source: Source, target: str | os.PathLike,
                          limits: ZipLimits = DEFAULT_LIMITS) -> ZipSummary:
    """Check a zip of class folders and unpack it as ``target/<class>/<image>``.

    The images are written into a temporary folder next to ``target``, which
    replaces ``target`` only once every image has passed: on any error the
    temporary folder is deleted and ``target`` is left as it was.
    """
    target = Path(target)
    with open_zip(source, limits) as archive:
        summary, members = plan_members(archive, limits)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".partial", dir=target.parent))
        try:
            for name, data in read_images(archive, members, limits):
                path = staging / name
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(data)
            replace_folder(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return summary


def load_class_folders(folder: str | os.PathLike) -> tuple[list[Path], list[int], list[str]]:
    """The image paths in ``folder``'s class folders, their integer labels, and the class names (sorted)."""
    folder = Path(folder)
    class_names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    paths, labels = [], []
    for label, name in enumerate(class_names):
        for path in sorted((folder / name).iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(label)
    return paths, labels, class_names


def open_zip(source: Source, limits: ZipLimits) -> zipfile.ZipFile:
    """Open an uploaded zip (its bytes or its path) once its size and number of entries are within the limits."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        size = os.path.getsize(source)
        if size > limits.max_zip_bytes:  # checked before the file is read
            raise ZipDataError(too_big_message(size, limits))
        data = Path(source).read_bytes()
    if len(data) > limits.max_zip_bytes:
        raise ZipDataError(too_big_message(len(data), limits))
    entries = data.count(CENTRAL_DIRECTORY_SIGNATURE)
    if entries > limits.max_files:
        raise ZipDataError(f"The zip holds {entries:,} files; the limit is {limits.max_files:,}. "
                           f"Use fewer images.")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise ZipDataError("This file is not a zip archive, or it is damaged. Put your class folders in a zip "
                           "with your computer's 'Compress' command and upload the .zip file.") from None


def too_big_message(size: int, limits: ZipLimits) -> str:
    return f"The zip is {size_text(size)}; the limit is {size_text(limits.max_zip_bytes)}. Use fewer or smaller images."


def size_text(n: int) -> str:
    """A size in plain words: '12.3 MB', '200 MB', '850 KB'."""
    return f"{n / MB:.1f}".removesuffix(".0") + " MB" if n >= MB else f"{n / 1024:.0f} KB"


def plan_members(archive: zipfile.ZipFile, limits: ZipLimits) -> tuple[ZipSummary, list[Member]]:
    """Check the zip's table of contents and decide where each image goes; nothing is unpacked yet."""
    images, skipped = [], []
    for info in archive.infolist():
        check_entry(info)
        if is_system_file(info.filename):
            skipped.append(info.filename)
        elif not info.is_dir():
            check_image_entry(info, limits)
            images.append(info)
    twice = [name for name, n in Counter(info.filename for info in images).items() if n > 1]
    if twice:
        raise ZipDataError(f"'{twice[0]}' appears twice in the zip; make the zip again.")
    total = sum(info.file_size for info in images)
    packed = sum(info.compress_size for info in images)
    if total > limits.max_total_bytes:
        raise ZipDataError(f"The images add up to {size_text(total)} once unzipped; the limit is "
                           f"{size_text(limits.max_total_bytes)}. Use fewer or smaller images.")
    if total >= BOMB_CHECK_FROM and total > limits.max_ratio * packed:
        raise ZipDataError(f"The zip as a whole expands {total / max(packed, 1):.0f} times when unzipped "
                           f"(the limit is {limits.max_ratio:.0f} times): this is how a zip bomb looks, "
                           f"and real photos do not shrink that much.")
    root, folders = find_class_folders(images)
    classes = clean_class_names(folders)
    check_class_counts({name: len(folders[folder]) for name, folder in classes.items()}, limits)
    members = []
    for name, folder in classes.items():
        for index, info in enumerate(sorted(folders[folder], key=lambda i: i.filename)):
            path = PurePosixPath(info.filename)
            stem = clean_name(path.stem)
            members.append((info, f"{name}/{index:05d}{'_' + stem if stem else ''}{path.suffix.lower()}"))
    summary = ZipSummary(classes={name: len(folders[folder]) for name, folder in classes.items()},
                         total_bytes=total, root=root, skipped=tuple(skipped))
    return summary, members


def check_entry(info: zipfile.ZipInfo) -> None:
    """Refuse any entry that could write outside the target folder, or that cannot be read."""
    name = info.filename
    if "\\" in name or re.match(r"[A-Za-z]:", name):
        raise ZipDataError(f"'{name}' has a Windows drive letter or a backslash in its path; a data set zip "
                           f"may only hold folders and images with plain relative paths.")
    if name.startswith("/"):
        raise ZipDataError(f"'{name}' is an absolute path (it starts with '/'); files in the zip must have "
                           f"relative paths such as cat/1.jpg.")
    if ".." in name.split("/"):
        raise ZipDataError(f"'{name}' points outside the folder the zip is unpacked into (its path "
                           f"contains '..'); zip the class folders themselves.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ZipDataError(f"'{name}' is a symbolic link, not a file; the zip may only hold real images.")
    if info.flag_bits & 0x1:
        raise ZipDataError(f"'{name}' is protected by a password; upload a zip without a password.")


def is_system_file(name: str) -> bool:
    """True for files an operating system adds to a zip: __MACOSX/, .DS_Store, Thumbs.db, hidden files."""
    return any(part.lower() in SYSTEM_NAMES or part.startswith(".") for part in path_parts(name))


def path_parts(name: str) -> list[str]:
    """The folders and file name of a zip entry, without empty or '.' parts."""
    return [part for part in name.split("/") if part not in ("", ".")]


def check_image_entry(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    """Refuse an entry that is not an image by its name, or whose declared sizes are too big."""
    name = info.filename
    if PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
        raise ZipDataError(f"'{name}' is not an image file: the class folders may only hold "
                           f"{', '.join(IMAGE_SUFFIXES)} files.")
    if info.file_size >= BOMB_CHECK_FROM and info.file_size > limits.max_ratio * info.compress_size:
        raise ZipDataError(f"'{name}' expands {info.file_size / max(info.compress_size, 1):.0f} times when "
                           f"unzipped (the limit is {limits.max_ratio:.0f} times): this is how a zip bomb "
                           f"looks, and real images do not shrink that much.")
    if info.file_size > limits.max_file_bytes:
        raise ZipDataError(f"'{name}' is {size_text(info.file_size)}; the limit per image is "
                           f"{size_text(limits.max_file_bytes)}.")


def find_class_folders(images: list[zipfile.ZipInfo]) -> tuple[str, dict[str, list[zipfile.ZipInfo]]]:
    """The root folder ("" when none) and the images of each class folder, as named in the zip.

    The class folders are either at the top of the zip or all inside one
    common root folder; each image sits directly in its class folder.
    """
    parts = {info.filename: path_parts(info.filename) for info in images}
    firsts = {p[0] for p in parts.values()}
    root = firsts.pop() if len(firsts) == 1 and any(len(p) > 2 for p in parts.values()) else ""
    folders: dict[str, list[zipfile.ZipInfo]] = {}
    for info in images:
        inner = parts[info.filename][1:] if root else parts[info.filename]
        if len(inner) == 1:
            raise ZipDataError(f"'{info.filename}' is not inside a class folder: put each image in a folder "
                               f"named after its class, such as cat/1.jpg and dog/2.jpg.")
        if len(inner) > 2:
            raise ZipDataError(f"'{info.filename}' is in a subfolder of a class folder: images must sit "
                               f"directly in their class folder, such as cat/1.jpg.")
        folders.setdefault(inner[0], []).append(info)
    return root, folders


def clean_name(name: str) -> str:
    """A name reduced to letters, digits, spaces, '-' and '_', at most ``NAME_LENGTH`` characters.

    Accents are kept: macOS zips write "é" as "e" and a combining accent, which NFC joins back into one letter.
    """
    name = unicodedata.normalize("NFC", name)
    return " ".join(re.sub(r"[^\w\-\s]", "", name).split())[:NAME_LENGTH].strip()


def clean_class_names(folders: dict[str, list[zipfile.ZipInfo]]) -> dict[str, str]:
    """Clean class name -> folder name in the zip, sorted by name; refuses names that vanish or collide."""
    classes: dict[str, str] = {}
    folder_of: dict[str, str] = {}  # the folder behind each class name, by its lower-case form
    for folder in folders:
        name = clean_name(folder)
        if not name:
            raise ZipDataError(f"The folder name '{folder}' has no letters or digits to use as a class name; "
                               f"rename it.")
        other = folder_of.setdefault(name.casefold(), folder)
        if other != folder:
            raise ZipDataError(f"The folders '{other}' and '{folder}' give the same class name, '{name}'; "
                               f"rename one of them.")
        classes[name] = folder
    return dict(sorted(classes.items()))


def check_class_counts(counts: dict[str, int], limits: ZipLimits) -> None:
    """Refuse too few or too many classes, and classes with too few images."""
    if not counts:
        raise ZipDataError("The zip holds no images. Put each class's images in a folder named after the "
                           "class, such as cat/ and dog/, and zip those folders.")
    if len(counts) < limits.min_classes:
        found = ", ".join(f"'{name}'" for name in counts)
        noun = "class" if len(counts) == 1 else "classes"
        raise ZipDataError(f"Found only {len(counts)} {noun} ({found}); a classifier needs at least "
                           f"{limits.min_classes} classes, one folder each (such as cat/ and dog/).")
    if len(counts) > limits.max_classes:
        raise ZipDataError(f"The zip has {len(counts)} class folders; the limit is {limits.max_classes}.")
    too_few = [f"{name} ({n})" for name, n in counts.items() if n < limits.min_images_per_class]
    if too_few:
        raise ZipDataError(f"Each class needs at least {limits.min_images_per_class} images; too few in: "
                           f"{', '.join(too_few)}.")


def read_images(archive: zipfile.ZipFile, members: list[Member], limits: ZipLimits) -> Iterator[tuple[str, bytes]]:
    """Each image's path in the extracted folder and its bytes, once they decoded as a picture."""
    for info, name in members:
        data = read_member(archive, info)
        try:
            decode_image(data, max_bytes=limits.max_file_bytes, max_pixels=limits.max_pixels)
        except InputError as e:
            raise ZipDataError(f"'{info.filename}' is not a usable image: {e}.") from None
        yield name, data


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A file's bytes from the zip, never more than the size the zip declares for it."""
    try:
        with archive.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError) as e:
        raise ZipDataError(f"'{info.filename}' could not be unzipped ({e}): the zip is damaged or uses an "
                           f"unusual compression. Make the zip again with your computer's 'Compress' "
                           f"command.") from None
    if len(data) > info.file_size:
        raise ZipDataError(f"'{info.filename}' holds more data than the zip declares: the zip is damaged "
                           f"or made to mislead.")
    return data
