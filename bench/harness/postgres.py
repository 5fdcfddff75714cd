"""A throwaway PostgreSQL server for the class store's tests and ``bench/bench_class.py`` (Debian's package:
``initdb`` and ``postgres``).

Started once per test session in a temporary folder, on a free local port, with fsync off (nothing here needs to
survive a crash); each test gets a database of its own. As root (a container), the server runs as the
``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

from bench.harness import command_line
from bench.harness.browser import free_port

DRIVER = "postgresql+psycopg"


def binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def available() -> str | None:
    """Why no server can be started here, or None."""
    if binary("initdb") is None or binary("postgres") is None:
        return "PostgreSQL's initdb and postgres are not installed (Debian: apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (requirements.txt)"
    return None


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Start a server; yield its address for SQLAlchemy, without a database name."""
    folder = tempfile.mkdtemp(prefix="vp_pg_")
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(folder, "data"), free_port()
    subprocess.run([*as_user, binary("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([*as_user, binary("postgres"), "-D", data, "-p", str(port), "-k", folder,
                             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"{DRIVER}://postgres@127.0.0.1:{port}"
    try:
        import psycopg

        for _ in range(300):
            try:
                psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=1).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None:
                    raise RuntimeError("postgres exited at start") from None
                time.sleep(0.1)
        yield base
    finally:
        command_line.stop(proc, wait_s=20)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(base: str) -> str:
    """A fresh, empty database on the server at ``base``; its SQLAlchemy address."""
    import psycopg

    name = f"class_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base.replace(DRIVER, "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"
