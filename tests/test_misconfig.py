"""Runs outside the happy path: settings that name something unusable, stores made by several processes at
once, a store left half-made, the machine's run slots, and the command line's stdout contract.

A misconfiguration gets one ``error:`` line within ``CLEAR_S`` seconds, exit status 2 and no traceback on the
command line, and a message (no exception) on the pages. bench/bench_misconfig.py prints the same cases'
messages and seconds.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bench.harness.browser import free_port
from bench.harness.command_line import cli, start
from bench.harness.misconfig import read_only, start_head, stop_head
from core.base.paths import ROOT
from core.lab import engine, runs
from tests.busy import stretched
from tests.pages import open_page

CLEAR_S = 15
TINY = ("--model", "net002", "--epochs", "1", "--limit", "600", "--batch-size", "64", "--no-augment",
        "--polish-epochs", "0")


def assert_one_clear_line(out, *words: str, within_s: float | None = CLEAR_S) -> None:
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert out.returncode == 2, (out.returncode, out.stderr[-3000:])
    assert len(out.errors) == 1, out.stderr[-3000:]
    for word in words:
        assert word in out.errors[0], out.errors[0]
    assert out.stdout == "", out.stdout
    assert within_s is None or out.seconds <= stretched(within_s), f"{out.seconds:.1f} s: {out.errors[0]}"


# --- a setting that names nothing usable, on the command line -----------------------------------------------


def test_a_dead_ray_address_is_said_at_once(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    out = cli("run", *TINY, env={"VP_HOME": str(tmp_path), "RAY_ADDRESS": address})
    assert_one_clear_line(out, f"No Ray cluster answers at RAY_ADDRESS={address}", "ray start --head")


@pytest.mark.parametrize("command", [("runs",), ("run", *TINY), ("cancel", "0" * 32)], ids=["runs", "run", "cancel"])
def test_a_dead_tracking_server_is_said_at_once(tmp_path, command):
    uri = f"http://127.0.0.1:{free_port()}"
    out = cli(*command, env={"VP_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": uri})
    assert_one_clear_line(out, f"No MLflow tracking server answers at MLFLOW_TRACKING_URI={uri}", "unset")
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize("command", [("runs",), ("run", *TINY)], ids=["runs", "run"])
def test_a_read_only_vp_home_is_said_at_once(tmp_path, command):
    home = tmp_path / "home"
    try:
        with read_only(home):
            out = cli(*command, env={"VP_HOME": str(home)})
    except OSError as e:
        pytest.skip(str(e))
    assert_one_clear_line(out, f"VP_HOME={home}", "cannot be written", "set VP_HOME")


@pytest.mark.slow
def test_a_read_only_vp_home_holding_a_store_is_said_at_once(run_store, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VP_HOME", str(home))
    runs.experiment_id()  # a store made while it was writable
    try:
        with read_only(home):
            out = cli("runs", env={"VP_HOME": str(home)})
    except OSError as e:
        pytest.skip(str(e))
    assert_one_clear_line(out, f"VP_HOME={home}", "cannot be written")


@pytest.mark.slow
def test_a_missing_data_set_is_said_in_one_sentence(tmp_path):
    try:
        socket.create_connection(("storage.googleapis.com", 443), timeout=3).close()
        pytest.skip("this machine can download MNIST, so it is never missing")
    except OSError:
        pass
    empty = tmp_path / "data"
    empty.mkdir()
    out = cli("run", *TINY, env={"VP_HOME": str(tmp_path), "VP_DATA_DIR": str(empty), "HOME": str(tmp_path)})
    # Said before TensorFlow loads: the registry names each model's data set without importing Keras.
    assert_one_clear_line(out, "MNIST", "VP_DATA_DIR", "mnist.npz", within_s=15)
    assert not (tmp_path / "mlflow.db").exists()  # refused before anything was recorded


# --- the pages ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_pages_with_a_dead_tracking_server_say_so_quickly_and_keep_working(run_store, monkeypatch):
    at = open_page("compare")  # first with a working store, so TensorFlow and the models are loaded
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    at.run()
    seconds = time.monotonic() - started
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("No MLflow tracking server answers at MLFLOW_TRACKING_URI=" in e for e in errors), errors
    assert seconds <= stretched(CLEAR_S), f"the Compare page took {seconds:.1f} s"
    table = at.dataframe[0].value  # the shipped networks are still compared
    assert {"DNN", "ConvNet", "ResNet"} <= set(table["network"])
    for page in ("lr_sweep", "grid", "draw"):
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, (page, at.exception)
        errors = [e.value for e in at.error]
        if page == "draw":  # needs neither Ray nor MLflow
            assert not errors, errors
        else:
            assert any("No MLflow tracking server answers" in e for e in errors), (page, errors)


# --- the store, made by several processes at once --------------------------------------------------------------

MAKE_STORE = """
import os, sys, time
go = sys.argv[1]
from core.lab import runs
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
print(runs.experiment_id(), len(runs.search()))
"""


@pytest.mark.slow  # four processes loading MLflow on two cores
def test_four_processes_making_a_new_store_at_once_all_succeed(tmp_path):
    home, go = tmp_path / "home", tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"} | {"VP_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", MAKE_STORE, str(go)], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    deadline = time.monotonic() + 300
    while len(list(tmp_path.glob("go.ready.*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    go.touch()  # all four make the store at the same moment
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, stderr) in zip(procs, outs):
        assert p.returncode == 0, stderr[-3000:]
    assert {stdout.split()[0] for stdout, _ in outs} == {outs[0][0].split()[0]}  # one experiment
    assert cli("runs", env={"VP_HOME": str(home)}).returncode == 0


def break_store(db: Path) -> None:
    """Leave ``db`` as a schema migration stopped half-way does: no version, a migration's leftover table."""
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM alembic_version")
        con.execute("CREATE TABLE _alembic_tmp_latest_metrics (key VARCHAR(250))")


@pytest.mark.slow
def test_a_half_made_store_with_no_run_is_made_again(run_store, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VP_HOME", str(home))
    runs.experiment_id()
    break_store(home / "mlflow.db")
    out = cli("runs", env={"VP_HOME": str(home)})
    assert out.returncode == 0 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr[-3000:]
    with sqlite3.connect(home / "mlflow.db") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert len(con.execute("SELECT version_num FROM alembic_version").fetchall()) == 1
    assert not any(t.startswith("_alembic_tmp") for t in tables)


@pytest.mark.slow
def test_a_half_made_store_holding_runs_is_explained_not_touched(run_store, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VP_HOME", str(home))
    run = runs.create({"epochs": 1}, "net002", "cli", "local")
    runs.finish(run.run_id, "KILLED")
    break_store(home / "mlflow.db")
    before = (home / "mlflow.db").read_bytes()
    out = cli("runs", env={"VP_HOME": str(home)})
    assert_one_clear_line(out, f"The run store {home / 'mlflow.db'}", "holds 1 run", "mlflow db upgrade",
                          within_s=None)  # MLflow's own look at the store, after TensorFlow loads: no hurry here
    assert (home / "mlflow.db").read_bytes() == before


# --- queued from the first moment ------------------------------------------------------------------------------


def test_a_new_run_shows_queued_from_its_first_moment(run_store, monkeypatch):
    c = runs.client()
    seen, real = [], c.log_batch

    def looking(run_id, *args, **kwargs):  # create() writes the run's params: what would a page show now?
        seen.append(runs.get(run_id).state)
        return real(run_id, *args, **kwargs)

    monkeypatch.setattr(c, "log_batch", looking)
    run = runs.create({"epochs": 1}, "net002", "cli", "local")
    monkeypatch.undo()
    runs.finish(run.run_id, "KILLED")
    assert seen and set(seen) == {"QUEUED"}, seen


# --- the machine's run slots ------------------------------------------------------------------------------------

HOLD = """
import sys, time
from filelock import FileLock
locks = [FileLock(f"{sys.argv[1]}/{i}.lock", timeout=0) for i in range(int(sys.argv[2]))]
for lock in locks:
    lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def hold_slots(home: Path, n: int) -> subprocess.Popen:
    """Another process (another app, another ``core run``) holding ``n`` of the machine's run slots."""
    (home / "slots").mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(home / "slots"), str(n)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_run_waits_for_a_slot_another_process_holds_and_a_cancel_ends_the_wait(run_store):
    run = runs.create({"epochs": 1}, "net002", "cli", "local")
    holder = hold_slots(run_store, 2)
    got = []
    waiter = threading.Thread(target=lambda: got.append(engine.take_slot(run.run_id, 2, poll_s=0.1)))
    try:
        waiter.start()
        waiter.join(timeout=2)
        assert waiter.is_alive() and runs.get(run.run_id).state == "QUEUED"
        holder.kill()  # the other process ends (however it ends): its slots are free
        holder.wait()
        waiter.join(timeout=10)
        assert not waiter.is_alive() and got[0] is not None and got[0].is_locked
        got[0].release()
        # Waiting again, and cancelled meanwhile: the wait ends with no slot.
        holder = hold_slots(run_store, 2)
        got.clear()
        waiter = threading.Thread(target=lambda: got.append(engine.take_slot(run.run_id, 2, poll_s=0.1)))
        waiter.start()
        assert runs.request_cancel(run.run_id) == "KILLED"
        waiter.join(timeout=10)
        assert not waiter.is_alive() and got == [None]
    finally:
        holder.kill()
        holder.wait()
        runs.finish(run.run_id, "KILLED")


def spans(home: Path) -> dict[str, tuple[int, int]]:
    """Each run's first and last progress report (ms), read from the SQLite store."""
    with sqlite3.connect(home / "mlflow.db") as con:
        rows = con.execute("SELECT run_uuid, min(timestamp), max(timestamp) FROM metrics WHERE key = 'progress' "
                           "GROUP BY run_uuid").fetchall()
    return {run_id: (first, last) for run_id, first, last in rows}


@pytest.mark.slow
def test_runs_started_together_from_two_shells_share_the_machines_slots(run_store, tmp_path, monkeypatch):
    """VP_MAX_RUNS is per machine: with 1, two ``core run`` started at once train one after the other."""
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    runs.experiment_id()  # the store first (here, not in a third process): this is about the slots
    procs = [start("run", *TINY, env={"VP_HOME": str(tmp_path), "VP_MAX_RUNS": "1"}) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    results = [json.loads(stdout) for stdout, _ in outs]
    assert [r["status"] for r in results] == ["FINISHED", "FINISHED"], [e[-2000:] for _, e in outs]
    (a0, a1), (b0, b1) = (spans(tmp_path)[r["run_id"]] for r in results)
    assert a1 < b0 or b1 < a0, "both runs trained at the same time"


# --- the command line's stdout: its JSON alone --------------------------------------------------------------------

NOISY_RUNS = """
import os, sys
from core import __main__ as cli
from core.lab import runs
run = runs.create({"epochs": 1}, "net002", "cli", "local")
runs.finish(run.run_id, "KILLED")
real = runs.search

def noisy(*args, **kwargs):  # what MLflow and Ray write to stdout while a command works
    print("View run Net 002 #1 at: http://127.0.0.1:5000/#/experiments/1/runs/x")
    os.write(1, b"(raylet) A worker died or was killed while executing a task\\n")
    return real(*args, **kwargs)

runs.search = noisy
sys.exit(cli.main(["runs"]))
"""


@pytest.mark.slow
def test_run_commands_keep_stdout_for_their_json_alone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"} | {"VP_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", NOISY_RUNS], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["status"] == "KILLED", out.stdout
    assert "View run" in out.stderr and "(raylet)" in out.stderr  # said, but not in the JSON


# --- joining a cluster started on this machine after the app has run ---------------------------------------------


JOIN = """
import ray
from core.lab import engine
engine.connect()
print(ray.nodes()[0]["ObjectStoreSocketName"])
"""


@pytest.mark.slow
def test_ray_address_joins_a_head_that_uses_this_machines_token(tmp_path):
    """``ray start --head`` turns on token authentication when ~/.ray/auth_token exists (the app's own local
    cluster writes it): a client joining RAY_ADDRESS must send that token, and one without it hears why."""
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text("0123456789abcdef0123456789abcdef\n")
    temp_dir = Path(tempfile.mkdtemp(prefix="vp_ray_", dir="/tmp"))  # short: Ray's socket paths have a limit
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MLFLOW_TRACKING_URI"))}
    env |= {"HOME": str(home), "VP_HOME": str(tmp_path / "vp")}
    try:
        port = start_head(temp_dir, env)
        joined = subprocess.run([sys.executable, "-c", JOIN], cwd=ROOT, env=env | {"RAY_ADDRESS": f"127.0.0.1:{port}"},
                                capture_output=True, text=True, timeout=300)
        assert joined.returncode == 0, joined.stderr[-3000:]
        assert joined.stdout.strip().startswith(str(temp_dir)), joined.stdout  # that head, not another cluster
        other = tmp_path / "other"  # a machine whose token is another one
        (other / ".ray").mkdir(parents=True)
        (other / ".ray" / "auth_token").write_text("fedcba9876543210fedcba9876543210\n")
        out = cli("run", *TINY, env=env | {"HOME": str(other), "RAY_ADDRESS": f"127.0.0.1:{port}"})
        assert_one_clear_line(out, f"RAY_ADDRESS=127.0.0.1:{port}", "refused this machine's token", "RAY_AUTH_TOKEN")
        out = cli("run", *TINY, env=env | {"HOME": str(tmp_path / "no token"), "RAY_ADDRESS": f"127.0.0.1:{port}"})
        assert_one_clear_line(out, "requires token authentication", "RAY_AUTH_TOKEN")
    finally:
        stop_head(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
