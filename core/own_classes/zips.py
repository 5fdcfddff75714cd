"""Zips of class folders: export a project, import examples, and teach a whole project from a folder or a zip.

An exported zip is a plain image data set (class folders of PNGs, the layout core.data.zipdata reads) with the
project's JSON and heads in a hidden folder, so it can be imported here again or used elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from core.base.files import atomic_path
from core.data import zipdata
from core.images import preprocess
from core.own_classes.feature_cache import features
from core.own_classes.head import train
from core.own_classes.projects import (
    DEFAULT_MODEL,
    MAX_CLASSES,
    PROJECT_FILE,
    SIDE,
    Project,
    ProjectError,
    add_example,
    check_classes,
    class_names,
    clean_name,
    counts,
    create_project,
    delete_project,
    example_files,
    project_dir,
    project_info,
    projects_dir,
    remove_example,
)
from core.own_classes.scores import held_out

MAX_IMPORT_FILES = 5_000
MIN_IMPORT_PER_CLASS = 5  # pictures with a drawing that a zip must bring of each of its classes
META_FOLDER = ".vision-playground"  # in an exported zip: hidden, so core.data.zipdata skips it as a system folder

def export_project(name: Project) -> bytes:
    """A zip of the examples as class folders of PNGs (the layout core.data.zipdata reads), with the project's JSON.

    ``project.json`` and the heads go in a hidden ``.vision-playground/`` folder,
    which zipdata skips as system files, so the zip is a valid image data set.
    """
    folder = project_dir(name)
    files, labels, names = example_files(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, label in zip(files, labels):
            # Zero-padded, so that a zip sorted by name (as zipdata reads it) keeps the examples' order.
            archive.writestr(f"{names[label]}/{int(path.stem):05d}.png", path.read_bytes())
        archive.writestr(f"{META_FOLDER}/{PROJECT_FILE}", (folder / PROJECT_FILE).read_text())
        for head in sorted(folder.glob("head-*.json")):
            archive.writestr(f"{META_FOLDER}/{head.name}", head.read_text())
    return buf.getvalue()


def _zip_class_order(zip_bytes: bytes, found: list[str]) -> list[str]:
    """The class order of an exported project's zip, when its project.json lists exactly these classes."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            info = archive.getinfo(f"{META_FOLDER}/{PROJECT_FILE}")
            if info.file_size > 64 * 1024:
                return found
            order = check_classes(json.loads(zipdata.read_member(archive, info))["classes"])
    except (KeyError, ValueError, TypeError, zipfile.BadZipFile):
        return found
    return order if sorted(order) == sorted(found) else found


def _as_example(gray: np.ndarray) -> np.ndarray:
    """An uploaded picture as a 28x28 example: one already in that form (white on black) is kept as it is.

    to_mnist crops a picture to its ink and scales it again, so running it on
    its own output would move and grow the strokes a little with every export
    and import.
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if gray.shape == (SIDE, SIDE) and float(np.median(border)) < 0.5:
        return gray
    return preprocess.to_mnist(gray, keep_steps=False).image


def _check_drawn(found: list[str], labels: list[int], added: list[Path]) -> None:
    """Refuse a zip in which a class has fewer than ``MIN_IMPORT_PER_CLASS`` pictures with a drawing (blank ones
    are left out), saying so, rather than import a class of nothing."""
    brought = {found[label]: labels.count(label) for label in set(labels)}
    drawn = {cls: sum(p.parent.name.casefold() == cls.casefold() for p in added) for cls in brought}
    short = [f"{cls} ({drawn[cls]} of {brought[cls]} had a drawing)" for cls in brought
             if drawn[cls] < MIN_IMPORT_PER_CLASS]
    if short:
        raise ProjectError(f"Each class needs at least {MIN_IMPORT_PER_CLASS} pictures with a drawing in them, and "
                           f"blank pictures are left out: too few in {', '.join(short)}.")


def import_examples(name: str, zip_bytes: bytes) -> dict:
    """Add the images of a zip of class folders to project ``name`` (created when missing, with their classes).

    The zip is checked and unpacked by core.data.zipdata into a temporary folder;
    each image then goes through the app's preprocessing (decode_image, to_mnist).
    Returns how many examples each class gained and the images skipped as empty (blank).
    Each class in the zip must bring at least ``MIN_IMPORT_PER_CLASS`` pictures with a drawing in them.
    Nothing is added when anything fails.
    """
    limits = zipdata.ZipLimits(min_classes=1, max_classes=MAX_CLASSES, min_images_per_class=MIN_IMPORT_PER_CLASS,
                               max_files=MAX_IMPORT_FILES)
    try:
        existing = project_dir(name)
    except ProjectError:
        existing = None
    with tempfile.TemporaryDirectory(prefix="vp_own_import_") as tmp:
        try:
            zipdata.extract_class_folders(zip_bytes, Path(tmp) / "classes", limits)
        except zipdata.ZipDataError as e:
            raise ProjectError(str(e)) from None
        files, labels, found = zipdata.load_class_folders(Path(tmp) / "classes")
        if existing is None:
            folder = create_project(name, _zip_class_order(zip_bytes, found))
        else:
            folder = existing
            known = {c.casefold() for c in class_names(folder)}
            unknown = [c for c in found if c.casefold() not in known]
            if unknown:
                raise ProjectError(f"The zip has classes the project '{folder.name}' does not: "
                                   f"{', '.join(unknown)}. Its classes are {', '.join(class_names(folder))}.")
        added: list[Path] = []
        skipped: list[str] = []
        try:
            for path, label in zip(files, labels):
                image = _as_example(preprocess.read_image_file(path))
                if not image.any():
                    skipped.append(f"{found[label]}/{path.name}")
                    continue
                added.append(add_example(folder, found[label], image))
            _check_drawn(found, labels, added)
        except BaseException:
            if existing is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for path in added:
                    remove_example(path)
            raise
    gained = {c: 0 for c in class_names(folder)}
    for path in added:
        gained[path.parent.name] += 1
    return {"project": folder.name, "added": gained, "skipped_empty": skipped}


def _zip_folder(folder: Path) -> bytes:
    """A folder of class folders as zip bytes (stored, not compressed), so it is checked as an upload is.

    Stops adding after ``MAX_IMPORT_FILES`` + 1 files or zipdata's total size, so a huge folder is refused by
    the same checks instead of read whole."""
    limit = zipdata.DEFAULT_LIMITS.max_total_bytes
    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n, path in enumerate(p for p in sorted(folder.rglob("*")) if p.is_file()):
            total += path.stat().st_size
            if n > MAX_IMPORT_FILES or total > limit:
                raise ProjectError(f"{folder} holds more than {MAX_IMPORT_FILES:,} files or "
                                   f"{limit // zipdata.MB} MB of pictures; a project takes fewer.")
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def teach(source: str | Path, name: str, model_name: str = DEFAULT_MODEL) -> dict:
    """Create or replace project ``name`` from ``source`` (a folder of class folders, or a zip of them), train its
    head on ``model_name``'s features, and score it on examples each fold's head never saw.

    The pictures are checked and read as the page's zip import reads them. The new project is made beside the
    old one and takes its place only once trained, so a failed import leaves the old project as it was.
    Returns ``name``, ``classes``, ``examples`` (per class) and ``held_out_accuracy``.
    """
    source = Path(source)
    if not source.exists():
        raise ProjectError(f"{source} does not exist: give a folder with one folder of pictures per class, or a zip.")
    final = clean_name(name)
    if not final:
        raise ProjectError("Give the project a name with at least one letter or digit.")
    data = _zip_folder(source) if source.is_dir() else source.read_bytes()
    staging = f"{final} importing {hashlib.sha256(data).hexdigest()[:8]}"
    if (projects_dir() / staging).exists():
        delete_project(staging)  # a previous import of the same pictures that stopped half-way
    import_examples(staging, data)
    try:
        X = features(staging, model_name)
        _, y, classes = example_files(staging)
        score = held_out(X, y, classes)["accuracy"]
        train(staging, model_name)
        info = project_info(staging) | {"name": final}
        with atomic_path(projects_dir() / staging / PROJECT_FILE) as tmp:
            tmp.write_text(json.dumps(info, indent=1))
        old = projects_dir() / final
        trash = projects_dir() / f".{final}-replaced-{hashlib.sha256(data).hexdigest()[:8]}"
        if old.exists():
            old.rename(trash)
        (projects_dir() / staging).rename(old)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(projects_dir() / staging, ignore_errors=True)
        raise
    return {"name": final, "classes": classes, "examples": counts(final), "model": model_name,
            "held_out_accuracy": round(float(score), 4)}


