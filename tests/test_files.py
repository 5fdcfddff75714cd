"""core.base.files.atomic_path: the new file whole or the old one, never half, and no litter."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from core.base.files import atomic_path
from core.base.paths import ROOT


def test_the_file_is_replaced_when_the_block_ends(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("old")
    with atomic_path(path) as tmp:
        assert tmp.parent == path.parent  # beside it: os.replace stays on one file system
        assert tmp != path and tmp.suffix == ".json"
        tmp.write_text("new")
        assert path.read_text() == "old"  # readers still see the old file while it is written
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["card.json"]  # no temporary file left


def test_a_new_file_is_created(tmp_path):
    path = tmp_path / "fresh.txt"
    with atomic_path(path) as tmp:
        tmp.write_text("first")
    assert path.read_text() == "first"
    assert os.listdir(tmp_path) == ["fresh.txt"]


def test_the_suffix_is_kept_for_writers_that_go_by_it(tmp_path):
    # np.save adds ".npy" to a name without it: the temporary name must already end so, or the rename misses it.
    path = tmp_path / "probs.npy"
    probs = np.arange(6, dtype=np.float32).reshape(2, 3)
    with atomic_path(path) as tmp:
        np.save(tmp, probs)
    np.testing.assert_array_equal(np.load(path), probs)
    assert os.listdir(tmp_path) == ["probs.npy"]


def test_an_error_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old model")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"half a mod")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old model"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_an_error_before_anything_was_written_is_the_one_raised(tmp_path):
    path = tmp_path / "cache.npy"
    with pytest.raises(KeyError):  # not a FileNotFoundError from removing a temporary file that never existed
        with atomic_path(path):
            raise KeyError("no such model")
    assert os.listdir(tmp_path) == []


def test_an_error_with_no_old_file_leaves_nothing(tmp_path):
    path = tmp_path / "new.json"
    with pytest.raises(ValueError):
        with atomic_path(path) as tmp:
            tmp.write_text("{")
            raise ValueError("bad card")
    assert os.listdir(tmp_path) == []


def test_a_block_that_writes_nothing_fails_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("old")
    with pytest.raises(FileNotFoundError):
        with atomic_path(path):
            pass
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["card.json"]


def test_two_writers_in_one_process_get_different_temporary_files(tmp_path):
    path = tmp_path / "shared.txt"
    with atomic_path(path) as first, atomic_path(path) as second:
        assert first != second
        first.write_text("one")
        second.write_text("two")
        assert first.read_text() == "one"
    assert path.read_text() == "one"  # the outer block ends last: its file is the one left
    assert os.listdir(tmp_path) == ["shared.txt"]
    names = set()
    for _ in range(200):
        with atomic_path(path) as tmp:
            names.add(tmp.name)
            tmp.write_text("x")
    assert len(names) == 200


def test_two_processes_get_different_temporary_files(tmp_path):
    path = tmp_path / "shared.txt"
    code = ("import sys; from core.base.files import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n    print(tmp.name); tmp.write_text('child')\n")
    child = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True,
                           check=True)
    with atomic_path(path) as tmp:
        mine = tmp.name
        tmp.write_text("parent")
    theirs = child.stdout.strip()
    assert theirs != mine
    assert f".{os.getpid()}." in mine and f".{os.getpid()}." not in theirs  # each carries its own process id
    assert theirs.startswith(".shared.") and theirs.endswith(".tmp.txt")
    assert path.read_text() == "parent"


def test_readers_never_see_half_a_file_while_writers_race(tmp_path):
    path = tmp_path / "big.bin"
    size = 256 * 1024
    path.write_bytes(b"\0" * size)
    errors = []
    done = threading.Event()

    def write(byte: int) -> None:
        try:
            for _ in range(15):
                with atomic_path(path) as tmp:
                    with open(tmp, "wb") as f:  # in pieces, so a reader of the temporary file would see half
                        for _ in range(4):
                            f.write(bytes([byte]) * (size // 4))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def read() -> None:
        seen = 0
        while not done.is_set() or seen == 0:
            data = path.read_bytes()
            seen += 1
            if len(data) != size or data.count(data[:1]) != size:
                errors.append(AssertionError(f"a torn read: {len(data)} bytes, {len(set(data))} values"))
                return

    writers = [threading.Thread(target=write, args=(b,)) for b in range(1, 5)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    final = path.read_bytes()
    assert len(final) == size and final[0] in (1, 2, 3, 4) and final.count(final[:1]) == size
    assert os.listdir(tmp_path) == ["big.bin"]
