"""Loading the data sets the app learns from, with one clear error when they are missing.

Data is looked up first in the folder named by the ``VP_DATA_DIR`` environment
variable, then in the Keras cache (``~/.keras/datasets``), and only then is it
downloaded with ``keras.datasets``, which needs internet.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

DATA_ENV = "VP_DATA_DIR"


class DataError(RuntimeError):
    """A data set is missing, unreadable or has the wrong shape."""


def data_dir() -> Path | None:
    """The folder named by ``VP_DATA_DIR``, or None when the variable is unset."""
    value = os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(name: str, array: np.ndarray, shape_tail: tuple[int, ...], dtype: str) -> None:
    if array.ndim != 1 + len(shape_tail) or array.shape[1:] != shape_tail:
        raise DataError(
            f"{name} has shape {array.shape}, expected (N, {', '.join(map(str, shape_tail))})"
            if shape_tail
            else f"{name} has shape {array.shape}, expected (N,)"
        )
    if array.dtype != np.dtype(dtype):
        raise DataError(f"{name} has dtype {array.dtype}, expected {dtype}")


def read_mnist_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read an ``mnist.npz`` in the Keras layout and validate its shapes, dtypes and labels."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array under an .npz name
            raise DataError(f"{path} is a single NumPy array, not an .npz archive of MNIST's four arrays")
        with archive as d:
            x_train, y_train = d["x_train"], d["y_train"]
            x_test, y_test = d["x_test"], d["y_test"]
    except KeyError as e:
        raise DataError(f"{path} is not an MNIST file: missing array {e}") from e
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path} could not be read as a NumPy .npz file: {e}") from e
    for name, arr, tail in (("x_train", x_train, (28, 28)), ("x_test", x_test, (28, 28))):
        _check(name, arr, tail, "uint8")
    for name, arr, x in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
        _check(name, arr, (), "uint8")
        if len(arr) != len(x):
            raise DataError(f"{name} has {len(arr)} labels for {len(x)} images")
        if len(arr) and arr.max() > 9:
            raise DataError(f"{name} has labels above 9")
    return (x_train, y_train), (x_test, y_test)


def mnist_path() -> Path | None:
    """Where a local ``mnist.npz`` is, or None when there is none."""
    candidates = []
    if data_dir() is not None:
        candidates.append(data_dir() / "mnist.npz")
    candidates.append(Path.home() / ".keras" / "datasets" / "mnist.npz")
    return next((p for p in candidates if p.is_file()), None)


def load_mnist(download: bool = True) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST as ``(x_train, y_train), (x_test, y_test)``, uint8 images 28x28 and labels 0-9."""
    path = mnist_path()
    if path is not None:
        return read_mnist_npz(path)
    where = f"{data_dir() / 'mnist.npz'}" if data_dir() else "$" + DATA_ENV + "/mnist.npz"
    if not download:
        raise DataError(f"MNIST not found: expected {where} (set {DATA_ENV} to the data folder)")
    try:
        import keras

        return keras.datasets.mnist.load_data()
    except Exception as e:  # noqa: BLE001 - any download failure means the same to the user
        raise DataError(
            f"MNIST not found at {where} and the download failed ({e}). "
            f"Put mnist.npz in a folder and set {DATA_ENV} to that folder."
        ) from e


def mnist_sha256() -> str:
    """sha256 of the MNIST file in use, recorded on every model card."""
    path = mnist_path()
    return sha256_file(path) if path else "keras-download"
