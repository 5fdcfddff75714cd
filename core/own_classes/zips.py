"""Zips of class folders: export a project, import examples, and teach a whole project from a folder or a zip.

An exported zip is a plain image data set (class folders of PNGs, the layout core.data.zipdata reads) with the
project's JSON and heads in a hidden folder, so it can be imported here again or used elsewhere.
"""

from __future__ import annotations

import glob
import io
import json
import os
import secrets
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.base.files import replace_folder
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
    example_files,
    new_project,
    project_dir,
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


def import_examples(name: Project, zip_bytes: bytes, owner: str | None = None) -> dict:
    """Add the images of a zip of class folders to project ``name`` (created when missing, with their classes,
    for ``owner``).

    The zip is checked and unpacked by core.data.zipdata into a temporary folder;
    each image then goes through the app's preprocessing (decode_image, to_mnist).
    Returns how many examples each class gained and the images skipped as empty (blank).
    Each class in the zip must bring at least ``MIN_IMPORT_PER_CLASS`` pictures with a drawing in them.
    Nothing is added when anything fails.
    """
    try:
        existing = project_dir(name)
    except ProjectError:
        existing = None
    return _import(zip_bytes, existing, lambda classes: create_project(name, classes, owner))


def _import(zip_bytes: bytes, existing: Path | None, create: Callable[[list[str]], Path]) -> dict:
    """``import_examples`` into the project ``existing``, or into the one ``create`` makes for the zip's classes."""
    limits = zipdata.ZipLimits(min_classes=1, max_classes=MAX_CLASSES, min_images_per_class=MIN_IMPORT_PER_CLASS,
                               max_files=MAX_IMPORT_FILES)
    with tempfile.TemporaryDirectory(prefix="vp_own_import_") as tmp:
        try:
            zipdata.extract_class_folders(zip_bytes, Path(tmp) / "classes", limits)
        except zipdata.ZipDataError as e:
            raise ProjectError(str(e)) from None
        files, labels, found = zipdata.load_class_folders(Path(tmp) / "classes")
        if existing is None:
            folder = create(_zip_class_order(zip_bytes, found))
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


def _folder_limit() -> int:
    """The most bytes of pictures a folder may hold: what an uploaded zip may weigh, since it is zipped as one."""
    return min(zipdata.DEFAULT_LIMITS.max_zip_bytes, zipdata.DEFAULT_LIMITS.max_total_bytes)


def _zip_folder(folder: Path) -> bytes:
    """A folder of class folders as zip bytes (stored, not compressed), so it is checked as an upload is.

    Every file's size is looked at before any is read: a folder with too many files, too many bytes, or one
    picture over the upload limit is refused naming the folder or the file, never read whole. Only regular
    files are read (a named pipe or a device in it would never end)."""
    limit, per_file = _folder_limit(), zipdata.DEFAULT_LIMITS.max_file_bytes
    chosen, total = [], 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue  # folders, and what is not a regular file
        size = path.stat().st_size
        if size > per_file:
            raise ProjectError(f"{path} is {zipdata.size_text(size)}; a picture may be at most "
                               f"{zipdata.size_text(per_file)}.")
        total += size
        chosen.append(path)
        if len(chosen) > MAX_IMPORT_FILES or total > limit:
            raise ProjectError(f"{folder} holds more than {MAX_IMPORT_FILES:,} files or "
                               f"{limit // zipdata.MB} MB of pictures; a project takes fewer.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in chosen:
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def read_source(source: str | Path) -> bytes:
    """The zip bytes of ``source``, a folder of class folders or a zip file, checked before anything is read.

    A zip is read only when its size is within an upload's limit; anything that is neither a regular file
    nor a folder (a named pipe, a device such as /dev/zero) is refused at once.
    """
    source = Path(source)
    try:
        st = source.stat()
    except OSError:
        raise ProjectError(f"{source} does not exist: give a folder with one folder of pictures per class, "
                           f"or a zip.") from None
    if stat.S_ISDIR(st.st_mode):
        return _zip_folder(source)
    if not stat.S_ISREG(st.st_mode):
        raise ProjectError(f"{source} is not a file or a folder: give a folder with one folder of pictures per "
                           f"class, or a zip.")
    if st.st_size > zipdata.DEFAULT_LIMITS.max_zip_bytes:
        raise ProjectError(zipdata.too_big_message(st.st_size, zipdata.DEFAULT_LIMITS))
    with open(source, "rb") as f:
        return f.read(zipdata.DEFAULT_LIMITS.max_zip_bytes + 1)  # never more, should the file grow meanwhile


def teach(source: str | Path, name: str, model_name: str = DEFAULT_MODEL) -> dict:
    """Create or replace project ``name`` from ``source`` (a folder of class folders, or a zip of them), train its
    head on ``model_name``'s features, and score it on examples each fold's head never saw.

    The pictures are checked and read as the page's zip import reads them. The new project is made in a hidden
    folder of its own beside the old one (never listed, and one per call, so two teachings at once do not
    meet), and takes the old one's place only once trained, through ``replace_folder``: a failed or killed
    import leaves the old project as it was.
    Returns ``name``, ``classes``, ``examples`` (per class) and ``held_out_accuracy``.
    """
    final = clean_name(name)
    if not final:
        raise ProjectError("Give the project a name with at least one letter or digit.")
    data = read_source(source)
    _remove_stale_staging(final)
    staging = projects_dir() / f".{final}.importing-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        _import(data, None, lambda classes: new_project(staging, final, classes))
        X = features(staging, model_name)
        _, y, classes = example_files(staging)
        score = held_out(X, y, classes)["accuracy"]
        train(staging, model_name)
        replace_folder(staging, projects_dir() / final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"name": final, "classes": classes, "examples": counts(final), "model": model_name,
            "held_out_accuracy": round(float(score), 4)}


def _remove_stale_staging(name: str) -> None:
    """Remove what a killed teaching of ``name`` left: hidden staging folders whose process is gone."""
    for folder in projects_dir().glob(f".{glob.escape(name)}.importing-*"):
        pid = folder.name.rsplit(".importing-", 1)[1].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
