"""What the fast subset (``pytest -m "not slow"``) may not start: a Ray cluster, a Streamlit server, Chromium.

A pytest plugin (tests/conftest.py loads it). A test that starts a Ray cluster or a Streamlit server must be
marked ``slow``, and one that drives Chromium ``browser`` (which counts as slow), so that the fast subset stays
a loop of a minute or two and ``pytest -m browser`` selects exactly the real-browser tests. A test that breaks
the rule fails and is told which mark it needs:

- a Streamlit server (``streamlit run`` in a subprocess) and Chromium (Playwright's ``launch``) are refused when
  the test starts them;
- a Ray cluster, started in the test's process or in any process it starts (``python -m core run``), writes its
  session folder under ``RAY_TMPDIR``, which this plugin points at a folder of its own: a new session folder
  there after a test that is not slow fails that test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_running: list[pytest.Item] = []  # the test being set up, run or torn down
_ray_sessions_before: set[str] = set()


def ray_tmpdir() -> Path:
    return Path(os.environ["RAY_TMPDIR"])


def ray_sessions() -> set[str]:
    """The Ray session folders under RAY_TMPDIR: one for each cluster started since the test session began."""
    folder = ray_tmpdir() / "ray"
    return {p.name for p in folder.glob("session_2*")} if folder.is_dir() else set()


def _allowed(item: pytest.Item, mark: str) -> bool:
    return item.get_closest_marker(mark) is not None


def _refuse(what: str, mark: str) -> None:
    if _running and not _allowed(_running[-1], mark):
        pytest.fail(f"{_running[-1].nodeid} starts {what}, which the fast subset must not: mark it {mark}",
                    pytrace=False)


def _started(args) -> str | None:
    """What a subprocess's command line starts, when it is a Streamlit server."""
    words = [os.path.basename(str(a)) for a in args] if isinstance(args, list | tuple) else str(args).split()
    if "streamlit" in words and "run" in words[words.index("streamlit"):]:
        return "a Streamlit server"
    return None


_execute_child = subprocess.Popen._execute_child


def _guarded_execute_child(self, args, *rest, **kwargs):
    what = _started(args)
    if what is not None:
        _refuse(what, "slow")
    return _execute_child(self, args, *rest, **kwargs)


def _guard_launch(cls, name: str) -> None:
    real = getattr(cls, name)

    def launch(self, *args, **kwargs):
        _refuse("Chromium", "browser")
        return real(self, *args, **kwargs)

    setattr(cls, name, launch)


def pytest_configure(config: pytest.Config) -> None:
    # Short, for Ray's socket paths (at most 107 characters); and no other Ray on this machine writes here.
    os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="vp_ray_", dir="/tmp")
    subprocess.Popen._execute_child = _guarded_execute_child
    from playwright.async_api import _generated as async_api
    from playwright.sync_api import _generated as sync_api

    for api in (sync_api, async_api):
        for name in ("launch", "launch_persistent_context"):
            _guard_launch(api.BrowserType, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    subprocess.Popen._execute_child = _execute_child
    shutil.rmtree(os.environ.pop("RAY_TMPDIR"), ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # before ``-m "not slow"`` deselects
        if _allowed(item, "browser") and not _allowed(item, "slow"):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    global _ray_sessions_before
    _ray_sessions_before = ray_sessions()
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when == "teardown" and report.passed and not _allowed(item, "slow"):
        started = ray_sessions() - _ray_sessions_before
        if started:
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} started a Ray cluster ({len(started)} under RAY_TMPDIR), which the "
                               "fast subset must not: mark it slow")
    return report
