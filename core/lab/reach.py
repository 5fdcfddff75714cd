"""Quick looks at what the settings name, before Ray or MLflow is handed them.

Ray retries an address that answers nothing for minutes, MLflow a dead tracking server for five, and a
read-only ``VP_HOME`` fails only after MLflow's retries. Each check here answers in a few seconds with
``Unavailable``: one sentence saying what is wrong, which setting names it and what to do. The module
imports no more than the standard library (and Ray, for a cluster's token), so the command line can run
these checks before it loads TensorFlow.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from core.base import paths, settings

TIMEOUT_S = 3.0  # a TCP connect to a live server on a school network takes milliseconds
REMEMBER_S = 5.0  # a failed look is remembered this long, so a page refreshing every 2 s does not wait each time
_failed: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


class Unavailable(RuntimeError):
    """A setting names something this machine cannot use; the message says what, which setting, and what to do."""


def _home_setting() -> str:
    return settings.VP_HOME.get() or f"{settings.VP_HOME.default} (the default)"


def _remembered(key: str) -> None:
    with _lock:
        seen = _failed.get(key)
    if seen is not None and time.monotonic() - seen[0] < REMEMBER_S:
        raise Unavailable(seen[1])


def _fail(key: str, message: str) -> Unavailable:
    with _lock:
        _failed[key] = (time.monotonic(), message)
    return Unavailable(message)


def tcp_problem(host: str, port: int, timeout_s: float = TIMEOUT_S) -> str | None:
    """Why nothing answers at ``host:port`` ('connection refused', 'timed out', ...), or None when something does."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except socket.gaierror as e:
        return f"unknown host {host!r} ({e.strerror or e})"
    except OSError as e:
        return (e.strerror or str(e)).lower()


# --- the run store ---------------------------------------------------------------------------------------------


def store_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set (a shared server), else the SQLite file under ``VP_HOME``."""
    if settings.MLFLOW_TRACKING_URI.get():
        return settings.MLFLOW_TRACKING_URI.get()
    try:
        home = paths.vp_home()
    except OSError as e:
        raise Unavailable(_home_message(e)) from None
    return f"sqlite:///{home / 'mlflow.db'}"


def _home_message(e: OSError) -> str:
    return (f"VP_HOME={_home_setting()} cannot be written ({(e.strerror or str(e)).lower()}): set VP_HOME to a "
            f"folder you can write (it holds the run store, the runs' models and caches).")



def check_store(uri: str) -> None:
    """Raise ``Unavailable`` when the run store at ``uri`` cannot be used: a tracking server that does not
    answer, or a SQLite file in a folder this process cannot write."""
    _remembered(uri)
    setting = (settings.MLFLOW_TRACKING_URI if settings.MLFLOW_TRACKING_URI.get() else settings.VP_HOME).name
    if uri.startswith(("http://", "https://")):
        parts = urlsplit(uri)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        problem = tcp_problem(parts.hostname or "localhost", port)
        if problem:
            raise _fail(uri, f"No MLflow tracking server answers at MLFLOW_TRACKING_URI={uri} ({problem}): "
                             f"start it (`mlflow server --port {port} ...`), or unset MLFLOW_TRACKING_URI to "
                             f"keep the runs in $VP_HOME/mlflow.db.")
    elif uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        problem = _write_problem(db)
        if problem:
            what = (f"set VP_HOME to a folder you can write (now VP_HOME={_home_setting()})"
                    if setting == "VP_HOME" else "point MLFLOW_TRACKING_URI at a SQLite file in a folder you can write")
            raise _fail(uri, f"The run store {db} cannot be written ({problem}): {what}.")


def _write_problem(db: Path) -> str | None:
    """Why a SQLite store at ``db`` could not be written (its folder or the file itself), or None."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=db.parent, prefix=".vp_write_check_"):
            pass
        if db.exists():
            with open(db, "r+b"):
                pass
    except OSError as e:
        return f"{e.strerror or e}".lower() + (f": {e.filename}" if e.filename else "")
    return None


def check_home() -> None:
    """Raise ``Unavailable`` when ``VP_HOME`` cannot be created or written (runs write their models there)."""
    key = "VP_HOME"
    _remembered(key)
    try:
        home = paths.vp_home()
        with tempfile.TemporaryFile(dir=home, prefix=".vp_write_check_"):
            pass
    except OSError as e:
        raise _fail(key, _home_message(e)) from None


# --- a Ray cluster --------------------------------------------------------------------------------------------

TOKEN_HELP = "`ray get-auth-token` on the cluster's head machine prints it"


def _token() -> tuple[str | None, str]:
    """The Ray token this machine would send, and where it comes from (Ray's own order of sources)."""
    if settings.RAY_AUTH_TOKEN.get():
        return settings.RAY_AUTH_TOKEN.get().strip(), settings.RAY_AUTH_TOKEN.name
    path = Path(settings.RAY_AUTH_TOKEN_PATH.value()).expanduser()
    try:
        token = path.read_text().strip()
    except OSError:
        return None, str(path)
    return token or None, str(path)


def _gcs_answer(address: str, token: str | None) -> str:
    """'ok', 'refused' (the token is missing or wrong), 'slow' or 'foreign' (not a Ray GCS): asking the
    cluster's GCS for its id, as ``ray.init`` does first."""
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with grpc.insecure_channel(address) as channel:
        try:
            gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel).GetClusterId(
                gcs_service_pb2.GetClusterIdRequest(), timeout=TIMEOUT_S, metadata=metadata)
        except grpc.RpcError as e:
            return {grpc.StatusCode.UNAUTHENTICATED: "refused",
                    grpc.StatusCode.DEADLINE_EXCEEDED: "slow"}.get(e.code(), "foreign")
    return "ok"


def _use_token_auth() -> None:
    """Join in Ray's token mode, as Ray itself does when it starts a cluster with a token on this machine."""
    os.environ[settings.RAY_AUTH_MODE.name] = "token"
    try:
        from ray._raylet import Config

        Config.initialize("")  # Ray caches its settings: it must read RAY_AUTH_MODE again
    except Exception:  # noqa: BLE001 - a later Ray without this hook reads the variable itself
        pass


def check_cluster(address: str) -> None:
    """Raise ``Unavailable`` unless a Ray cluster answers at ``address`` and accepts this machine.

    Ray 2.60 starts a cluster with token authentication whenever ``~/.ray/auth_token`` exists (and the app's
    own local cluster writes that file), but a client joining an explicit address stays in mode 'disabled' and
    is refused after a minute of retries. So: when this machine has a token and ``RAY_AUTH_MODE`` is unset,
    join in token mode (a cluster without authentication accepts that too); when the cluster refuses, say
    which token to set.
    """
    if address in ("auto", "local"):
        return  # Ray finds (or starts) the cluster on this machine itself, and fails quickly when it cannot
    key = f"ray:{address}"
    _remembered(key)
    client = address.startswith("ray://")
    parts = urlsplit(address if "://" in address else f"//{address}")
    host, port = parts.hostname or "127.0.0.1", parts.port or (10001 if client else 6379)
    problem = tcp_problem(host, port)
    if problem:
        start = "`ray start --head` (Ray Client listens on port 10001)" if client else \
            f"`ray start --head --port={port}`"
        raise _fail(key, f"No Ray cluster answers at RAY_ADDRESS={address} ({problem}): start one there with "
                         f"{start}, or unset RAY_ADDRESS to train on this machine.")
    if client:
        return  # Ray Client speaks its own protocol; its server checks the rest
    mode = (settings.RAY_AUTH_MODE.get() or "").lower()
    token, source = _token()
    try:
        send = token if mode != "disabled" else None
        answer = _gcs_answer(f"{host}:{port}", send)
    except ImportError:  # a Ray without these generated stubs: leave the rest to ray.init
        return
    if answer == "foreign":
        raise _fail(key, f"Something answers at RAY_ADDRESS={address} but not as a Ray cluster: give the "
                         f"address of a head started with `ray start --head` (its GCS port, 6379 by default).")
    if answer == "slow":
        return  # a busy head: ray.init waits for it
    if answer == "refused" and send:
        raise _fail(key, f"The Ray cluster at RAY_ADDRESS={address} refused this machine's token (from {source}): "
                         f"set RAY_AUTH_TOKEN to the cluster's own token ({TOKEN_HELP}).")
    if answer == "refused":
        unset = " and unset RAY_AUTH_MODE=disabled" if mode == "disabled" else ""
        raise _fail(key, f"The Ray cluster at RAY_ADDRESS={address} requires token authentication: set "
                         f"RAY_AUTH_TOKEN to its token ({TOKEN_HELP}){unset}.")
    if send and mode != "token":
        _use_token_auth()
