"""How the test run is laid out over pytest-xdist's workers (tests/conftest.py): the longest files first."""

from pathlib import Path
from types import SimpleNamespace

from tests import conftest


def test_every_file_put_first_exists():
    """A renamed file would silently lose its place at the front."""
    missing = [name for name in conftest.LONGEST_FILES if not (conftest.ROOT / "tests" / name).is_file()]
    assert not missing, f"tests/conftest.py's LONGEST_FILES names files that are not in tests/: {missing}"


def test_the_longest_files_go_first_and_each_file_keeps_its_order():
    def item(file: str, name: str):
        return SimpleNamespace(path=Path("tests") / file, name=name)

    items = [item("test_app.py", "a1"), item("test_handwriting.py", "h1"), item("test_app.py", "a2"),
             item("test_presets_teach.py", "p1"), item("test_handwriting.py", "h2"), item("test_zipdata.py", "z1")]
    conftest.pytest_collection_modifyitems(items)
    assert [i.name for i in items] == ["p1", "h1", "h2", "a1", "a2", "z1"]


def test_xdist_keeps_the_collection_order(pytestconfig):
    """pytest-xdist orders files by their number of tests unless told not to."""
    if hasattr(pytestconfig.option, "loadscopereorder"):
        assert pytestconfig.option.loadscopereorder is False
