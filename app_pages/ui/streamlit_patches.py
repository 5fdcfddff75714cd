"""The two places the app reaches into Streamlit's internals, in one module.

1. ``keep_compiled_kernels``: after every rerun Streamlit calls ``script_runner._clean_problem_modules``, which runs
   ``keras.backend.clear_session()`` (a TF1-era guard for scripts that rebuild their models on each run) when Keras
   is loaded. Ours are cached, and the call throws away TensorFlow's compiled kernels (the next stroke's three model
   calls then take about 100 ms instead of 3) and collects garbage (another 100 ms) while the server waits for the
   GIL. Can go when Streamlit stops calling it, or offers a setting to turn it off.
2. ``expired_sessions``: Streamlit keeps a closed tab's session in a ``cachetools.TTLCache`` that forgets an expired
   entry only when another session is stored, and never shuts it down (streamlit/streamlit#12506, open in 1.67).
   ``app_pages.ui.sessions`` closes them itself. Can go when that issue is fixed.

Both hooks were read in Streamlit ``TESTED_WITH``. On another version each is looked for before it is used; a hook
that is not there is logged once, and the app goes on without that patch (slower strokes, or memory kept longer).
"""

from __future__ import annotations

import functools
import inspect
import logging

import streamlit

log = logging.getLogger(__name__)
TESTED_WITH = "1.67"  # the Streamlit version whose internals these hooks were read in
_logged: set[str] = set()


def _missing(hook: str, consequence: str) -> None:
    """Say once per process that a hook is not there, and what the app does without it."""
    if hook in _logged:
        return
    _logged.add(hook)
    log.warning("Streamlit %s has no %s (the app's patches were written for %s): %s.", streamlit.__version__, hook,
                TESTED_WITH, consequence)


def _no_clean_up() -> None:
    """Stands in for ``_clean_problem_modules``: nothing to clean, our models are cached."""


@functools.cache
def _clean_up_hook_is_called() -> bool:
    """Whether the script runner still calls ``_clean_problem_modules`` after a run (read once per process)."""
    try:
        from streamlit.runtime.scriptrunner import script_runner

        return "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner._run_script)
    except (ImportError, AttributeError, OSError, TypeError):
        return False


def keep_compiled_kernels() -> bool:
    """Stop Streamlit's after-run ``keras.backend.clear_session()``; False (logged once) when the hook is gone."""
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        script_runner = None
    if script_runner is None or not hasattr(script_runner, "_clean_problem_modules") \
            or not _clean_up_hook_is_called():
        _missing("script_runner._clean_problem_modules called after a run",
                 "if it still clears Keras after each rerun, a stroke costs about 200 ms more")
        return False
    script_runner._clean_problem_modules = _no_clean_up
    return True


def expired_sessions() -> list | None:
    """Take the expired sessions out of Streamlit's storage of disconnected sessions: their ``SessionInfo``s.

    None when no server runs here (AppTest, a script) or when the storage is not where Streamlit 1.67 keeps it
    (logged once): then nothing is closed and nothing breaks.
    """
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    manager = getattr(Runtime.instance(), "_session_mgr", None)
    storage = getattr(getattr(manager, "_session_storage", None), "_cache", None)
    expire = getattr(storage, "expire", None)
    lock = getattr(manager, "_storage_lock", None)  # held by the manager while it moves sessions into the storage
    if expire is None or lock is None:
        _missing("session manager storage (_session_mgr._session_storage._cache.expire, _storage_lock)",
                 "closed tabs' sessions stay in memory until another tab disconnects")
        return None
    with lock:
        expired = expire() or []  # cachetools >= 5 returns the (id, SessionInfo) pairs it dropped
    return [info for _, info in expired]
