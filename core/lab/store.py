"""The run store itself: opening it, making a local one, and repairing one whose making stopped half-way.

The store is MLflow's: ``sqlite:///$VP_HOME/mlflow.db`` on this machine, or a tracking server that
``MLFLOW_TRACKING_URI`` names. ``core.lab.runs`` records and reads the runs in it; this module only hands it
a client, so that the one place that creates, locks and repairs the SQLite file is here.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

from core.base import settings
from core.lab import reach

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # MLflow probes git; the app may run without it
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # no "View run" lines in a CLI's JSON
# A tracking server that stops answering costs seconds, not MLflow's default of 7 retries over 4 minutes.
for _setting in (settings.MLFLOW_HTTP_REQUEST_MAX_RETRIES, settings.MLFLOW_HTTP_REQUEST_TIMEOUT):
    os.environ.setdefault(_setting.name, _setting.default)
Unavailable = reach.Unavailable


@cache
def open_client(uri: str):
    """The MLflow client of the store at ``uri``, opened once per process (a SQLite store: made on first use)."""
    reach.check_store(uri)  # a dead server or a read-only VP_HOME: one clear sentence in seconds (not cached)
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Not mlflow.set_tracking_uri: it also sets MLFLOW_TRACKING_URI in os.environ, and every process started
    # afterwards (a server, a CLI, a worker) would then write to this store whatever its VP_HOME says.
    if uri.startswith("sqlite:///"):
        return _open_sqlite(uri, Path(uri.removeprefix("sqlite:///")))
    return MlflowClient(tracking_uri=uri)


def _open_sqlite(uri: str, db: Path):
    """Open (on first use: create) a SQLite store, one process at a time.

    MLflow creates a new store's tables and then migrates them step by step; two processes doing it at once
    (two commands started together on a fresh VP_HOME) clash and can leave it half-made. A file lock beside the
    store lets the first create it while the others wait, then open it made. A store left half-made before
    (a creation killed half-way) holds no run yet: it is made again; one that holds runs is left as it is,
    with one sentence saying what to do. An empty file (0 bytes) is made again too, and said.
    """
    from filelock import FileLock
    from mlflow.tracking import MlflowClient

    with FileLock(f"{db}.lock", timeout=300):
        if db.is_file() and db.stat().st_size == 0:  # SQLite would take it for a new store without a word
            logging.getLogger(__name__).warning(
                "The run store %s was empty (0 bytes), as a full disk or a copy that failed leaves it, so any runs "
                "it held are gone: a new store is made in its place.", db)
        try:
            return MlflowClient(tracking_uri=uri)  # opens the store: creates and migrates it when needed
        except Exception as e:  # noqa: BLE001 - judged below: repaired, or explained
            problem = first_line(e)
            held = _runs_held(db)
        if not _half_made(db, problem):
            raise Unavailable(f"The run store {db} could not be opened ({problem}): check the file, or set "
                              f"VP_HOME to another folder.") from None
        if held:
            raise Unavailable(f"The run store {db} is damaged or half-upgraded ({problem}); it holds {held} "
                              f"run(s), so it is left as it is: back it up, then run `mlflow db upgrade "
                              f"sqlite:///{db}`, or move it away to start a new store.") from None
        logging.getLogger(__name__).warning("the run store %s was left half-made (%s) and holds no run: "
                                            "making it again", db, problem)
        _forget_engine(uri)
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        try:
            return MlflowClient(tracking_uri=uri)
        except Exception as e:  # noqa: BLE001 - the CLI and the pages show this sentence, not a traceback
            raise Unavailable(f"The run store {db} could not be created ({first_line(e)}): move it away or "
                              f"set VP_HOME to another folder.") from None


def first_line(e: BaseException) -> str:
    """An error's first sentence: what a message quotes of MLflow's or SQLite's words."""
    text = str(e).strip().splitlines()[0].split(". ")[0][:300] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _half_made(db: Path, problem: str) -> bool:
    """Whether ``db`` looks like a store whose creation or schema migration stopped half-way."""
    import sqlite3

    if "database schema" in problem:  # MLflow: tables there, but not at the schema version it expects
        return True
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            versions = con.execute("SELECT count(*) FROM alembic_version").fetchone()[0] \
                if "alembic_version" in tables else 0
    except sqlite3.Error:
        return False
    return versions != 1 or any(t.startswith("_alembic_tmp") for t in tables)


def _runs_held(db: Path) -> int:
    """How many runs a SQLite store file holds (0 when it has no runs table)."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return int(con.execute("SELECT count(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return 0


def _forget_engine(uri: str) -> None:
    """Drop MLflow's cached connection pool of ``uri``, so a store made again is not read through old handles."""
    try:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        engine = SqlAlchemyStore._engine_map.pop(uri, None)
        if engine is not None:
            engine.dispose()
    except Exception:  # noqa: BLE001 - an MLflow without this cache holds no such pool
        pass
