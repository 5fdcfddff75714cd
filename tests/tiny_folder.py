"""A tiny-ImageNet folder generated in exactly the standard layout (3 classes, a few flat-colour JPEGs each,
val annotations), and its zip as the data set ships it (served by the ``http_folder`` fixture): the tests of
the data set, its download and the pages that show it share these. Nothing leaves the machine."""

from __future__ import annotations

import zipfile

from PIL import Image

from core.data import tiny_imagenet

WNIDS = ("n01443537", "n01629819", "n01641577")
WORDS = {"n01443537": "goldfish, Carassius auratus", "n01629819": "European fire salamander",
         "n01641577": "bullfrog, Rana catesbeiana", "n99999999": "not in wnids"}
N_TRAIN, N_VAL = 4, 2


def photo(path, colour, side=64, gray=False):
    """A 64x64 JPEG of one flat colour (each class its own), so a label can be checked from the pixels."""
    img = Image.new("RGB", (side, side), colour)
    (img.convert("L") if gray else img).save(path, "JPEG", quality=95)


def colour(label: int) -> tuple[int, int, int]:
    return ((200, 30, 30), (30, 200, 30), (30, 30, 200))[label]


def make_folder(parent):
    """``parent/tiny-imagenet-200`` in the standard layout: 3 classes, 4 training and 2 val photos each."""
    root = parent / "tiny-imagenet-200"
    (root / "val" / "images").mkdir(parents=True)
    (root / "test" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (root / "words.txt").write_text("".join(f"{w}\t{t}\n" for w, t in WORDS.items()))
    annotations = []
    for label, wnid in enumerate(WNIDS):
        images = root / "train" / wnid / "images"
        images.mkdir(parents=True)
        for i in range(N_TRAIN):
            photo(images / f"{wnid}_{i}.JPEG", colour(label), gray=(label == 0 and i == 0))
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text(
            "".join(f"{wnid}_{i}.JPEG\t0\t0\t63\t63\n" for i in range(N_TRAIN)))
        for i in range(N_VAL):
            name = f"val_{label * N_VAL + i}.JPEG"
            photo(root / "val" / "images" / name, colour(label))
            annotations.append(f"{name}\t{wnid}\t0\t0\t63\t63\n")
    (root / "val" / "val_annotations.txt").write_text("".join(annotations))
    photo(root / "test" / "images" / "test_0.JPEG", (128, 128, 128))  # unlabelled: never read
    return root


def use_data_dir(data_dir, monkeypatch):
    """``data_dir`` as ``VP_DATA_DIR``, and no Keras cache to fall back on."""
    monkeypatch.setenv("VP_DATA_DIR", str(data_dir))
    monkeypatch.setattr(tiny_imagenet.Path, "home", lambda: data_dir / "no-home")
    tiny_imagenet._checked.cache_clear()


def zipped(folder, to):
    """``folder`` zipped as the data set's zip is: its entries under ``tiny-imagenet-200/``."""
    with zipfile.ZipFile(to, "w") as zf:
        for file in sorted(folder.rglob("*")):
            zf.write(file, file.relative_to(folder.parent).as_posix())
    return to
