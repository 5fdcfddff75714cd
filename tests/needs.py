"""Tests that read the data folder: skipped where the data is not there (a developer's clone), failed in CI.

``.ci/run`` sets ``VP_REQUIRE_DATA=1``: there a test whose data is missing fails, saying what is missing, so that
a CI machine without the data cannot pass by skipping the tests that check the lessons. A pytest plugin
(tests/conftest.py loads it) for the ``needs_data`` mark; ``require_data`` for the checks made inside a test.
"""

from __future__ import annotations

import os

import pytest

from core.data import datasets

REQUIRE_ENV = "VP_REQUIRE_DATA"


def missing(*names: str) -> list[str]:
    """Which of ``names`` are not here, as file names: a data set of the app ("mnist", "greek"; found where the app
    finds it) or a file of the data folder ("unipen_dev_letters.jsonl")."""
    out = []
    for name in names:
        if name in datasets.DATASETS:
            if datasets.dataset_path(name) is None:
                out.append(datasets.get_dataset(name).file)
        elif datasets.data_dir() is None or not (datasets.data_dir() / name).exists():
            out.append(name)
    return out


def require_data(*names: str) -> None:
    """Skip the test when one of ``names`` (as ``missing`` reads them) is not here; fail it where the data must be
    (``VP_REQUIRE_DATA=1``)."""
    absent = missing(*names)
    if not absent:
        return
    reason = f"needs {' and '.join(absent)} in VP_DATA_DIR ({datasets.data_dir() or 'not set'})"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 says the data must be here", pytrace=False)
    pytest.skip(reason)


def needs_data(*names: str) -> pytest.MarkDecorator:
    """The mark of a test (or with ``pytestmark``, a module) that reads ``names``: see ``require_data``."""
    return pytest.mark.needs_data(*names)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_data"):  # before the test's fixtures, which would read the data
        require_data(*mark.args)
