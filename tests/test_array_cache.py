"""core.base.array_cache: arrays kept by a key over their inputs' content, damaged copies made again, atomic writes."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.base import array_cache, paths


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_an_array_part_counts_by_its_content_dtype_and_shape():
    a = np.arange(6, dtype=np.int32)
    assert array_cache.key(["x", a]) == array_cache.key(["x", a.copy()])
    assert array_cache.key(["x", a[::2]]) == array_cache.key(["x", np.ascontiguousarray(a[::2])])
    for other in (a + 1, a.astype(np.int64), a.reshape(2, 3)):
        assert array_cache.key(["x", other]) != array_cache.key(["x", a])
    assert array_cache.key(["ab", "c"]) != array_cache.key(["a", "bc"])  # parts never run together


def test_code_is_the_recipes_source():
    [function] = array_cache.code(array_cache.keep)
    assert function.startswith(b"def keep(") and b"atomic" in function and b"def read(" not in function
    [module] = array_cache.code(array_cache)
    assert module == Path(array_cache.__file__).read_bytes()


def test_kept_and_keep_a_two_phase_build():
    parts = ["model bytes", np.arange(3)]
    assert array_cache.kept("phases/model", parts) is None
    path = array_cache.keep("phases/model", parts, {"features": np.ones((3, 2), np.float32)})
    assert path.parent == paths.cache_dir() / "phases" and path.suffix == ".npz"
    assert array_cache.kept("phases/model", parts)["features"].shape == (3, 2)
    assert array_cache.kept("phases/model", ["other bytes", np.arange(3)]) is None


def test_cached_builds_once_and_again_when_an_input_changes():
    built = []

    def build():
        built.append(1)
        return {"y": np.arange(4)}

    for parts in (["a"], ["a"], ["b"]):
        np.testing.assert_array_equal(array_cache.cached("once", parts, build)["y"], np.arange(4))
    assert len(built) == 2


def _npy(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


DAMAGES = {
    "truncated": lambda whole: whole[: len(whole) // 2],
    "one byte short": lambda whole: whole[:-1],
    "not an archive": lambda whole: b"not an .npz",
    "empty": lambda whole: b"",
    "a lone .npy": lambda whole: _npy(np.arange(4)),
    "a flipped byte": lambda whole: whole[:100] + bytes([whole[100] ^ 0xFF]) + whole[101:],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_copy_is_removed_and_built_again(damage):
    y = np.arange(1000, dtype=np.float32)
    path = array_cache.keep("damaged", ["a"], {"y": y})
    path.write_bytes(DAMAGES[damage](path.read_bytes()))
    assert array_cache.kept("damaged", ["a"]) is None and not path.exists()
    np.testing.assert_array_equal(array_cache.cached("damaged", ["a"], lambda: {"y": y})["y"], y)
    np.testing.assert_array_equal(array_cache.read(path)["y"], y)


def test_a_copy_that_is_not_what_the_recipe_makes_is_removed():
    path = array_cache.keep("checked", ["a"], {"y": np.arange(3)})
    assert array_cache.kept("checked", ["a"], lambda arrays: len(arrays["y"]) == 4) is None and not path.exists()


@pytest.mark.slow
def test_two_processes_building_the_same_key_at_once_both_end_with_a_whole_file(home):
    code = textwrap.dedent("""
        import time
        import numpy as np
        from core.base import array_cache

        def build():
            time.sleep(1.0)  # both processes find no copy, then both write one
            return {"y": np.arange(4_000_000)}

        arrays = array_cache.cached("raced", ["a"], build)
        print(int(arrays["y"].sum()))
    """)
    env = {"VP_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(paths.ROOT)}
    racers = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=paths.ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [racer.communicate(timeout=120) for racer in racers]
    expected = str(sum(range(4_000_000)))
    assert [out.strip() for out, _ in outs] == [expected, expected], [err[-2000:] for _, err in outs]
    [path] = (home / "cache").iterdir()  # one whole copy, no temporary file left behind
    assert array_cache.read(path)["y"].sum() == int(expected)


def test_rows_computes_only_the_items_not_kept_and_keeps_the_newest_past_the_limit():
    asked = []

    def compute(keys):
        asked.append(list(keys))
        return np.array([[float(k), -float(k)] for k in keys], np.float32)

    def rows(keys, limit=array_cache.ROWS_LIMIT):
        return array_cache.rows("items/model", ["model bytes"], keys, compute, limit)

    np.testing.assert_array_equal(rows(["1", "2", "1"])[:, 0], [1, 2, 1])
    np.testing.assert_array_equal(rows(["2", "3"])[:, 0], [2, 3])
    assert asked == [["1", "2"], ["3"]]  # a row once, however often or wherever it is asked for
    rows(["4"], limit=2)  # past the limit: the rows not asked for longest go
    assert rows(["3", "4"], limit=2)[:, 0].tolist() == [3, 4] and asked[-1] == ["4"]
    rows(["1"])
    assert asked[-1] == ["1"]
    assert rows([]).shape == (0, 0)


def test_damaged_rows_are_computed_again():
    def compute(keys):
        return np.ones((len(keys), 3), np.float32)

    array_cache.rows("items/damaged", ["a"], ["x", "y"], compute)
    [path] = (paths.cache_dir() / "items").iterdir()
    path.write_bytes(path.read_bytes()[:-10])
    assert array_cache.rows("items/damaged", ["a"], ["x", "y"], compute).shape == (2, 3)
    assert array_cache.read(path)["keys"].tolist() == ["x", "y"]
