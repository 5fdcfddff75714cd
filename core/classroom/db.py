"""Where the class store lives: ``sqlite:///$VP_HOME/classes.db``, or the SQLAlchemy URL in ``VP_CLASS_DB``.

SQLite serves one app server; thirty students submitting at once are thirty writers, which SQLite takes one
at a time. Its write-ahead log lets the wall read while a drawing is written, and every transaction starts
``BEGIN IMMEDIATE`` so that a transaction that reads and then writes waits for the lock at its start (where
the busy timeout applies) instead of failing half-way with "database is locked". A transaction that only reads
(``reading``: the students' screens polling, the wall) starts a plain ``BEGIN``: it reads the log's last commit
without taking the writers' lock, so thirty screens and a wall never queue behind a drawing being stored, nor it
behind them. Several app servers share a class through PostgreSQL
(``VP_CLASS_DB=postgresql+psycopg://user@host/db``): the same tables and queries.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from core.base import paths, settings
from core.classroom import schema

DB_ENV = settings.VP_CLASS_DB.name
BUSY_TIMEOUT_S = 30  # how long a writer waits for SQLite's lock: far more than thirty drawings take
CONNECT_TIMEOUT_S = 5  # a PostgreSQL server that does not answer is said within seconds
_READING = "vp_reading"  # the execution option of a connection whose transaction only reads


class StoreUnavailable(ConnectionError):
    """The class store that the settings name cannot be opened; the message says which and why."""


def url() -> str:
    """The store's SQLAlchemy URL: ``VP_CLASS_DB`` when set, else the SQLite file under ``VP_HOME``."""
    return settings.VP_CLASS_DB.get() or f"sqlite:///{paths.vp_home() / 'classes.db'}"


def _sqlite_engine(address: str) -> Engine:
    engine = create_engine(address, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below starts transactions, not the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        reads_only = connection.get_execution_options().get(_READING)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")

    return engine


@functools.cache
def _engine(address: str) -> Engine:
    if address.startswith("sqlite"):
        engine = _sqlite_engine(address)
        from filelock import FileLock

        # Two processes opening a new store at once (the app, the command line) create its tables once.
        with FileLock(f"{address.split(':///', 1)[-1]}.lock", timeout=60):
            schema.metadata.create_all(engine)
    else:
        engine = create_engine(address, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        schema.metadata.create_all(engine)
    return engine


def engine() -> Engine:
    """The engine of the store ``url()`` names (one per process and address), its tables created on first use;
    ``StoreUnavailable`` when it cannot be opened (an address that is no database, a server that does not answer,
    a driver that is not installed)."""
    address = url()
    try:
        return _engine(address)
    except (ArgumentError, SQLAlchemyError, ImportError, OSError) as e:
        shown = address.split("@")[-1] if "@" in address else address  # never a password
        where = f"{DB_ENV}={shown}" if settings.VP_CLASS_DB.get() else shown
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreUnavailable(f"the class store at {where} cannot be opened: {first}") from None


@contextlib.contextmanager
def reading() -> Iterator[Connection]:
    """A transaction that only reads, as ``engine().begin()`` is one that may write: on SQLite it neither waits
    for the writers' lock nor holds it (one snapshot of the store, as of its first read)."""
    with engine().connect() as conn:
        conn.execution_options(**{_READING: True})
        with conn.begin():
            yield conn
