"""The app's two reaches into Streamlit's internals (app_pages.ui.streamlit_patches) say once when a hook is not there,
and the app goes on without that patch."""

import logging

import pytest
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import script_runner

from app_pages.ui import streamlit_patches


@pytest.fixture(autouse=True)
def fresh_log(monkeypatch):
    """Each test starts as a fresh process would: nothing logged yet, the script runner's source not yet read."""
    monkeypatch.setattr(streamlit_patches, "_logged", set())
    streamlit_patches._clean_up_hook_is_called.cache_clear()
    yield
    streamlit_patches._clean_up_hook_is_called.cache_clear()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == streamlit_patches.__name__ and r.levelno >= logging.WARNING]


def test_the_installed_streamlit_has_both_hooks(monkeypatch, caplog):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: None)  # restored after the test
    assert streamlit_patches.keep_compiled_kernels() is True
    assert script_runner._clean_problem_modules is streamlit_patches._no_clean_up
    assert warnings_of(caplog) == []


def test_a_missing_clean_up_hook_is_logged_once(monkeypatch, caplog):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    caplog.set_level(logging.WARNING, logger=streamlit_patches.__name__)
    assert streamlit_patches.keep_compiled_kernels() is False
    assert streamlit_patches.keep_compiled_kernels() is False  # every rerun calls it: still one line
    logged = warnings_of(caplog)
    assert len(logged) == 1, logged
    assert "_clean_problem_modules" in logged[0] and streamlit_patches.TESTED_WITH in logged[0]


def test_a_clean_up_hook_no_longer_called_after_a_run_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: None)
    monkeypatch.setattr(script_runner.ScriptRunner, "_run_script", lambda self, request: None)
    caplog.set_level(logging.WARNING, logger=streamlit_patches.__name__)
    assert streamlit_patches.keep_compiled_kernels() is False
    assert len(warnings_of(caplog)) == 1


class _ManagerWithoutStorage:
    """A session manager as a later Streamlit might have it: no ``_session_storage``."""


class _Runtime:
    _session_mgr = _ManagerWithoutStorage()


def test_a_missing_session_storage_is_logged_once_and_closes_nothing(monkeypatch, caplog):
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: _Runtime()))
    caplog.set_level(logging.WARNING, logger=streamlit_patches.__name__)
    assert streamlit_patches.expired_sessions() is None
    assert streamlit_patches.expired_sessions() is None
    logged = warnings_of(caplog)
    assert len(logged) == 1, logged
    assert "_session_storage" in logged[0]
    from app_pages.ui import sessions

    assert sessions.close_expired() == 0
    assert len(warnings_of(caplog)) == 1


def test_no_server_is_not_a_missing_hook(caplog):
    assert not Runtime.exists()
    caplog.set_level(logging.WARNING, logger=streamlit_patches.__name__)
    assert streamlit_patches.expired_sessions() is None
    assert warnings_of(caplog) == []
