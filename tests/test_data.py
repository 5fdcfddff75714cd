import numpy as np
import pytest

from core.data import datasets


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays(n=10):
    return dict(x_train=np.zeros((n, 28, 28), np.uint8), y_train=np.arange(n, dtype=np.uint8) % 10,
                x_test=np.zeros((n, 28, 28), np.uint8), y_test=np.arange(n, dtype=np.uint8) % 10)


def test_loads_the_shared_mnist():
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert list(y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_vp_data_dir_is_used(tmp_path, monkeypatch):
    write_npz(tmp_path / "mnist.npz", **good_arrays())
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    (x_train, _), _ = datasets.load_mnist(download=False)
    assert len(x_train) == 10


@pytest.mark.parametrize("change, message", [
    (dict(x_train=np.zeros((10, 32, 32), np.uint8)), "x_train has shape"),
    (dict(x_test=np.zeros((10, 28, 28), np.float64)), "x_test has dtype"),
    (dict(y_train=np.arange(9, dtype=np.uint8)), "9 labels for 10 images"),
    (dict(y_test=np.full(10, 12, np.uint8)), "labels above 9"),
])
def test_wrong_shapes_are_clear_errors(tmp_path, change, message):
    arrays = good_arrays() | change
    with pytest.raises(datasets.DataError, match=message):
        datasets.read_mnist_npz(write_npz(tmp_path / "mnist.npz", **arrays))


def test_missing_key_and_corrupt_file(tmp_path):
    arrays = good_arrays()
    del arrays["y_test"]
    with pytest.raises(datasets.DataError, match="missing array"):
        datasets.read_mnist_npz(write_npz(tmp_path / "a.npz", **arrays))
    bad = tmp_path / "b.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(datasets.DataError, match="could not be read"):
        datasets.read_mnist_npz(bad)


def test_missing_data_says_where_it_is_expected(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(datasets.DataError, match=str(tmp_path / "mnist.npz")):
        datasets.load_mnist(download=False)


def test_unipen_file_errors_are_clear(tmp_path):
    from core.data import unipen

    with pytest.raises(datasets.DataError, match="UNIPEN digits not found"):
        unipen.load_unipen(tmp_path / "none.jsonl")
    good = '{"label": 3, "strokes": [[[0, 0], [1, 1]]]}\n'
    for bad in ("{ not json\n", '{"label": 3}\n', '{"label": 3, "strokes": []}\n'):
        path = tmp_path / "digits.jsonl"
        path.write_text(good + bad)
        with pytest.raises(datasets.DataError, match="line 2"):
            unipen.load_unipen(path)
    path.write_text(good + "\n" + good)
    assert [r["label"] for r in unipen.load_unipen(path)] == [3, 3]


def test_a_single_array_saved_as_mnist_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "mnist.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros((10, 28, 28), np.uint8))
    with pytest.raises(datasets.DataError, match="not an .npz archive"):
        datasets.read_mnist_npz(path)


@pytest.mark.slow
def test_every_public_function_of_the_data_sets_module_is_used():
    """One way to load each data set: no shorthand left behind that nothing calls (``mnist_path`` was
    ``dataset_path("mnist")``, ``load_cifar10`` ``load_dataset("cifar10")``)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    module = Path(datasets.__file__)
    tree = ast.parse(module.read_text())
    public = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}
    used: set[str] = set()
    for file in [*root.glob("*.py"), *root.glob("core/**/*.py"), *root.glob("app_pages/**/*.py"),
                 *root.glob("bench/**/*.py"), *root.glob("tests/**/*.py")]:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Name | ast.Attribute):  # a call, or a function passed or stored by name
                used.add(node.id if isinstance(node, ast.Name) else node.attr)
            elif isinstance(node, ast.ImportFrom):
                used.update(alias.name for alias in node.names)
    assert not sorted(public - used), "defined in core/data/datasets.py but used nowhere"


def test_a_hard_compressed_data_set_is_read_through_a_checked_copy(tmp_path, monkeypatch):
    """A large data set file is read once, then from its uncompressed copy in the shared array cache; a copy
    that reads but holds wrong arrays (a label out of range) is made again from the file, never served."""
    from core.base import array_cache

    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(datasets, "COMPRESSED_BYTES", 0)  # every file counts as large here
    source = tmp_path / "mnist.npz"
    np.savez_compressed(source, **good_arrays())
    (x_train, y_train), _ = datasets._read_cached(source, "mnist")
    copies = list((tmp_path / "home" / "cache").glob("mnist-*.npz"))
    assert len(copies) == 1 and array_cache.read(copies[0])["y_train"].tolist() == y_train.tolist()
    np.savez(copies[0], **(good_arrays() | {"y_train": np.full(10, 200, np.uint8)}))  # readable, but wrong
    (_, y_again), _ = datasets._read_cached(source, "mnist")
    assert y_again.tolist() == y_train.tolist()
    assert array_cache.read(copies[0])["y_train"].tolist() == y_train.tolist()  # the copy made again
