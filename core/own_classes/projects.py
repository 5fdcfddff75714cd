"""A project on disk: a folder of class folders of 28x28 examples, with its class names in ``project.json``.

A project lives under ``$VP_HOME/own_classes/<name>/``::

    project.json                  class names (in the user's order), creation time
    examples/<class>/<n>.png      each example as the network sees it: 28x28, uint8, white on black
    drawings/<class>/<n>.png      the drawing it came from, when one was given
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from core.base import paths
from core.base.files import atomic_path, restore_folder, restore_folders
from core.data import zipdata
from core.images import preprocess
from core.nets import registry

Project = str | Path  # a project's name, or its folder (as create_project returns it)

NETWORKS = registry.FEATURE_MODELS  # the networks a head may read, the default first
DEFAULT_MODEL = NETWORKS[0]
MIN_CLASSES, MAX_CLASSES = 2, 10
SIDE = preprocess.FRAME
PROJECT_FILE = "project.json"


class ProjectError(ValueError):
    """A project, a class or an example cannot be used; the message says why, in plain words."""


def projects_dir() -> Path:
    """The folder that holds every project."""
    path = paths.vp_home() / "own_classes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_name(name: str) -> str:
    """A name reduced to letters, digits, spaces, '-' and '_' (core.data.zipdata's rule, so zips round-trip)."""
    return zipdata.clean_name(str(name))


def owner_key(token: str | None) -> str | None:
    """What a project keeps of its owner: a digest of the token their browser holds, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32] if token else None


def new_project(folder: Path, name: str, classes: list[str], owner: str | None = None,
                shared: bool = False) -> Path:
    """Write an empty project (its ``project.json`` and class folders) into ``folder``, which must not exist yet.

    ``owner`` is the token of the browser that made it (None: made on the command line, seen by everyone);
    ``shared`` lets every visitor of the server see it too.
    """
    names = check_classes(classes)
    folder.mkdir()
    for cls in names:
        (folder / "examples" / cls).mkdir(parents=True)
    info = {"name": name, "classes": names, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "owner": owner_key(owner), "shared": bool(shared)}
    (folder / PROJECT_FILE).write_text(json.dumps(info, indent=1))
    return folder


def create_project(name: str, classes: list[str], owner: str | None = None, shared: bool = False) -> Path:
    """A new, empty project folder with its class folders; refuses bad or clashing names."""
    folder_name = clean_name(name)
    if not folder_name:
        raise ProjectError("Give the project a name with at least one letter or digit.")
    check_classes(classes)
    folder = projects_dir() / folder_name
    if folder.exists():
        raise ProjectError(_taken(folder_name, owner))
    staging = Path(tempfile.mkdtemp(prefix=f".{folder_name}-", dir=projects_dir()))
    shutil.rmtree(staging)
    new_project(staging, folder_name, classes, owner, shared)
    try:
        staging.rename(folder)  # the project appears whole or not at all
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProjectError(_taken(folder_name, owner)) from None
    return folder


def _taken(name: str, owner: str | None) -> str:
    try:
        mine = owner is None or can_change(name, owner)
    except ProjectError:
        mine = False
    if mine:
        return f"A project named '{name}' already exists; choose another name, or delete that one first."
    return f"The name '{name}' is taken by a project of another visitor; choose another name."


def check_classes(classes: list[str]) -> list[str]:
    """The class names cleaned, in the order given; refuses too few, too many, empty or clashing names."""
    classes = list(classes)
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise ProjectError(f"A project needs {MIN_CLASSES} to {MAX_CLASSES} classes; {len(classes)} "
                           f"{'was' if len(classes) == 1 else 'were'} given.")
    names, seen = [], {}
    for raw in classes:
        name = clean_name(raw)
        if not name:
            raise ProjectError(f"The class name '{raw}' has no letters or digits; every class needs a name.")
        # Case-insensitive: on macOS and Windows the folders 'a' and 'A' are the same folder.
        other = seen.setdefault(name.casefold(), raw)
        if other == raw and name in names:
            raise ProjectError(f"The class name '{raw}' is given twice; give each class its own name.")
        if other != raw:
            raise ProjectError(f"The class names '{other}' and '{raw}' are the same once cleaned ('{name}'; "
                               f"case does not count); give each class its own name.")
        names.append(name)
    return names


def list_projects(viewer: str | None = None) -> list[str]:
    """The names of the projects, sorted: all of them (``viewer`` None, the command line), or those the browser
    holding the token ``viewer`` may open: its own, the shared ones, and those made on the command line.

    A project whose ``project.json`` is damaged is listed to everyone, so that it can be repaired or deleted."""
    restore_folders(projects_dir())  # a project a crash left aside while it was being replaced
    names = sorted(p.name for p in projects_dir().iterdir()
                   if p.is_dir() and not p.name.startswith(".") and (p / PROJECT_FILE).is_file())
    return names if viewer is None else [n for n in names if can_open(n, viewer)]


def _owner_and_shared(project: Project) -> tuple[str | None, bool]:
    try:
        info = project_info(project)
    except ProjectError:
        return None, True  # damaged: anyone may repair or delete it
    return info.get("owner"), info.get("shared", False) is True


def can_open(project: Project, viewer: str | None) -> bool:
    """Whether the browser holding the token ``viewer`` may open the project (None: the command line, always)."""
    owner, shared = _owner_and_shared(project)
    return viewer is None or owner is None or shared or owner == owner_key(viewer)


def can_change(project: Project, viewer: str | None) -> bool:
    """Whether ``viewer`` may delete the project or change its sharing: its owner (or the command line)."""
    owner, shared = _owner_and_shared(project)
    return viewer is None or owner == owner_key(viewer) or (owner is None and shared and _damaged(project))


def _damaged(project: Project) -> bool:
    try:
        project_info(project)
    except ProjectError:
        return True
    return False


def set_shared(project: Project, shared: bool, viewer: str | None = None) -> None:
    """Share the project with every visitor of the server, or keep it to its owner."""
    if not can_change(project, viewer):
        raise ProjectError(f"Only the visitor who made '{project_dir(project).name}' can change who sees it.")
    folder = project_dir(project)
    info = project_info(folder) | {"shared": bool(shared)}
    with atomic_path(folder / PROJECT_FILE) as tmp:
        tmp.write_text(json.dumps(info, indent=1))


def project_dir(project: Project) -> Path:
    """The folder of an existing project, given its name or its folder."""
    folder = Path(project) if isinstance(project, Path) else projects_dir() / clean_name(project)
    restore_folder(folder)
    if not clean_name(folder.name) or not (folder / PROJECT_FILE).is_file():
        raise ProjectError(f"There is no project named '{folder.name if isinstance(project, Path) else project}'.")
    return folder


def project_info(project: Project) -> dict:
    """What project.json holds: the name, the class names in order, the creation time."""
    folder = project_dir(project)
    try:
        info = json.loads((folder / PROJECT_FILE).read_text())
        check_classes(info["classes"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ProjectError(f"The project '{folder.name}' is damaged: its {PROJECT_FILE} cannot be read; teach "
                           f"it again, or delete it.") from None
    return info


def repair_project(project: Project, owner: str | None = None) -> Path:
    """Write a damaged project's ``project.json`` again from its class folders (in name order, as a zip's are
    read), keeping its examples; the head must then be trained again."""
    folder = project_dir(project)
    classes = sorted(p.name for p in (folder / "examples").iterdir() if p.is_dir()) \
        if (folder / "examples").is_dir() else []
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise ProjectError(f"The project '{folder.name}' has {len(classes)} class folders left, too few to rebuild "
                           f"it from; delete it.")
    info = {"name": folder.name, "classes": check_classes(classes),
            "created": datetime.now(UTC).isoformat(timespec="seconds"), "owner": owner_key(owner), "shared": False}
    with atomic_path(folder / PROJECT_FILE) as tmp:
        tmp.write_text(json.dumps(info, indent=1))
    for head in folder.glob("head-*.json"):
        head.unlink()  # its outputs were in the old class order
    return folder


def class_names(project: Project) -> list[str]:
    """The project's classes, in the order the user named them (the head's output order)."""
    return list(project_info(project)["classes"])


def delete_project(name: Project, viewer: str | None = None) -> None:
    """Delete a project folder: its examples, cached features and heads (on the page, only its owner may)."""
    folder = project_dir(name)
    if not can_change(folder, viewer):
        raise ProjectError(f"Only the visitor who made '{folder.name}' can delete it.")
    if folder.resolve().parent != projects_dir().resolve():
        raise ProjectError(f"'{folder}' is not a project folder of this app; nothing was deleted.")
    shutil.rmtree(folder)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _gray_uint8(image: np.ndarray, what: str) -> np.ndarray:
    """A 2-D gray picture as uint8: uint8 is kept, floats must lie in [0, 1] (as preprocess makes them)."""
    a = np.asarray(image)
    if a.ndim != 2:
        raise ProjectError(f"{what} must be a 2-D gray picture; got shape {a.shape}.")
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64)
    if not np.isfinite(a).all() or a.min() < 0.0 or a.max() > 1.0:
        raise ProjectError(f"{what} must hold gray values between 0 and 1 (or be uint8).")
    return np.round(a * 255.0).astype(np.uint8)


def _find_class(project: Project, cls: str) -> str:
    names = class_names(project)
    by_key = {n.casefold(): n for n in names}
    found = by_key.get(clean_name(cls).casefold())
    if found is None:
        raise ProjectError(f"'{cls}' is not a class of this project; its classes are {', '.join(names)}.")
    return found


def add_example(project: Project, cls: str, image28: np.ndarray, drawing: np.ndarray | None = None) -> Path:
    """Save one example of class ``cls`` (a 28x28 preprocessed picture) and, optionally, the drawing behind it."""
    folder = project_dir(project)
    cls = _find_class(folder, cls)
    pixels = _gray_uint8(image28, "An example")
    if pixels.shape != (SIDE, SIDE):
        raise ProjectError(f"An example must be the {SIDE}x{SIDE} picture the network reads (from "
                           f"preprocess.to_mnist); got {pixels.shape[0]}x{pixels.shape[1]}.")
    if pixels.max() == 0:
        raise ProjectError("The example is empty: draw something first.")
    data = _png(pixels)
    target = folder / "examples" / cls
    target.mkdir(parents=True, exist_ok=True)
    while True:  # 'x' mode: two sessions adding at once never overwrite each other's example
        n = 1 + max((int(p.stem) for p in target.glob("*.png") if p.stem.isdigit()), default=0)
        path = target / f"{n}.png"
        try:
            with open(path, "xb") as f:
                f.write(data)
            break
        except FileExistsError:
            continue
    if drawing is not None:
        raw = folder / "drawings" / cls / path.name
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(_png(_gray_uint8(drawing, "A drawing")))
    return path


def remove_example(path: str | Path) -> None:
    """Delete one example (and its drawing); only files inside a project's examples folder are touched."""
    path = Path(path).resolve()
    try:
        parts = path.relative_to(projects_dir().resolve()).parts
    except ValueError:
        parts = ()
    if len(parts) != 4 or parts[1] != "examples" or path.suffix != ".png":
        raise ProjectError(f"'{path}' is not an example of a project; nothing was deleted.")
    path.unlink(missing_ok=True)  # already gone (a double click) is not an error
    (path.parents[2] / "drawings" / parts[2] / parts[3]).unlink(missing_ok=True)


def example_files(project: Project) -> tuple[list[Path], np.ndarray, list[str]]:
    """Every example file, its label (index into the class names) and the class names, in a fixed order."""
    folder = project_dir(project)
    names = class_names(folder)
    files, labels = [], []
    for label, cls in enumerate(names):
        found = [p for p in (folder / "examples" / cls).glob("*.png") if p.stem.isdigit()]
        for path in sorted(found, key=lambda p: int(p.stem)):
            files.append(path)
            labels.append(label)
    return files, np.asarray(labels, np.int64), names


def decode_example(data: bytes, path: Path) -> np.ndarray:
    try:
        pixels = preprocess.scale_pixels(Image.open(io.BytesIO(data)).convert("L"))
    except (OSError, ValueError):
        pixels = None
    if pixels is None or pixels.shape != (SIDE, SIDE):
        raise ProjectError(f"The example {path} is damaged (not a {SIDE}x{SIDE} PNG); remove it.")
    return pixels


def examples(project: Project) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The examples as (N, 28, 28) float32 in [0, 1], their labels (N,), and the class names."""
    files, labels, names = example_files(project)
    images = [decode_example(p.read_bytes(), p) for p in files]
    return np.stack(images) if images else np.zeros((0, SIDE, SIDE), np.float32), labels, names


def counts(project: Project) -> dict[str, int]:
    """The number of examples of each class, in class order."""
    _, labels, names = example_files(project)
    return dict(zip(names, np.bincount(labels, minlength=len(names)).tolist()))

