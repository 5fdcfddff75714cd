"""The run engine (core.lab.engine on a private local Ray cluster) and its MLflow store (core.lab.runs).

Every test works in the session's own store (the ``engine_home`` fixture: VP_HOME in a temporary
folder, one local Ray cluster). Runs are tiny (a few hundred MNIST digits, one to three epochs), or
long but cancelled or killed; waits poll the store against deadlines.
"""

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from bench.harness import command_line
from core.base.paths import ROOT
from core.lab import engine, runs
from core.nets import registry
from core.training.train import TrainConfig
from tests.busy import stretched

CURVES = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")
FINISH_S = 240  # a tiny run: a fresh worker imports TensorFlow, loads MNIST and trains, on 2 busy cores
START_S = 120  # until a worker has started and reports its first batches
WAIT_S = 0.25  # how often a wait for a worker's start looks (each look is a query of the store, on busy cores)
VALID = dict(epochs=1, limit=600, batch_size=64, polish_epochs=0, augment=False, writing_styles=False)


def small(model: str = "net002", **changes) -> TrainConfig:
    """A run that takes seconds: 600 digits, one epoch, no augmentation, no polish."""
    return TrainConfig(model=model, **VALID | changes)


def long_run(**changes) -> TrainConfig:
    """A run that would train for minutes (no early stop): for cancelling and killing."""
    return small(epochs=200, limit=1000, batch_size=16, patience=1000, **changes)


def poll(check, timeout_s: float, what: str, every_s: float = 0.05):
    """``check()``'s first truthy value; fails the test when ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout_s:.0f} s")
        time.sleep(every_s)


def training(run_id: str) -> runs.RunInfo | None:
    """The run once it is RUNNING and has reported a batch (the worker is inside model.fit)."""
    run = runs.get(run_id)
    return run if run.status == "RUNNING" and "progress" in run.metrics else None


def store_run_ids() -> set[str]:
    return {r.run_id for r in runs.search(max_results=10_000)}


def stop_all(run_ids) -> None:
    """Clean-up for a test that failed half-way: cancel whatever of its runs is still going."""
    for run_id in run_ids:
        try:
            engine.cancel(run_id)
        except Exception:  # noqa: BLE001 - best effort; the session's ray.shutdown() ends them anyway
            pass


# --- a bad config is refused before anything is recorded ------------------------------------------------------

BAD = [  # (what, architecture, the bad settings, what the message must say)
    ("unknown model", "net002", dict(model="nope"), r"unknown model 'nope'"),
    ("no epochs", "net002", dict(epochs=0), r"epochs must be a whole number of at least 1, not 0"),
    ("negative epochs", "net002", dict(epochs=-3), r"epochs must be a whole number of at least 1, not -3"),
    ("learning rate 0", "net002", dict(learning_rate=0.0), r"the learning rate must be above 0"),
    ("batch larger than the data", "net002", dict(limit=100, batch_size=500),
     r"the batch size \(500\) is larger than the 100 training images"),
    ("dropout 1.5", "net002", dict(dropout=1.5), r"dropout is the fraction of units dropped.*not 1\.5"),
    ("kernel size on the DNN", "dnn", dict(kernel_size=3), r"the DNN has no convolution kernels to size"),
]


@pytest.mark.slow
@pytest.mark.parametrize("model, changes, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_is_refused_with_a_clear_message_and_nothing_recorded(run_store, model, changes, message):
    before = store_run_ids()
    with pytest.raises(ValueError, match=message):
        TrainConfig(**VALID | {"model": model} | changes)
    # A config made valid and changed afterwards (as a page's widgets may do) is refused by launch itself.
    config = TrainConfig(model=model, **VALID)
    for key, value in changes.items():
        setattr(config, key, value)
    with pytest.raises(ValueError, match=message):
        engine.launch(config, "cli")
    assert store_run_ids() == before


def test_unknown_lab_is_refused_and_nothing_recorded(run_store):
    before = store_run_ids()
    with pytest.raises(ValueError, match=r"unknown lab 'nope'"):
        engine.launch(small(), "nope")
    assert store_run_ids() == before


# --- reconcile: runs orphaned by a dead app -------------------------------------------------------------------


def test_reconcile_fails_runs_of_a_dead_process_and_leaves_live_ones(run_store):
    params = small().params()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not psutil.pid_exists(dead.pid)
    host = socket.gethostname()
    c = runs.client()
    orphan = runs.create(params, "net002", "cli", cluster="local")
    live = runs.create(params, "net002", "cli", cluster="local")  # owned by this (live) process
    elsewhere = runs.create(params, "net002", "cli", cluster="local")  # another machine's: cannot be judged here
    c.set_tag(orphan.run_id, "vp.owner", f"{host}:{dead.pid}")
    c.set_tag(elsewhere.run_id, "vp.owner", f"not-{host}:{dead.pid}")
    for run in (orphan, live, elsewhere):
        c.update_run(run.run_id, status="RUNNING")
    assert live.tags["vp.owner"] == f"{host}:{os.getpid()}"
    try:
        fixed = runs.reconcile()
        assert orphan.run_id in fixed
        assert live.run_id not in fixed and elsewhere.run_id not in fixed
        after = runs.get(orphan.run_id)
        assert after.status == "FAILED"
        assert "stopped" in (after.error or "")
        assert runs.get(live.run_id).status == "RUNNING"
        assert runs.get(elsewhere.run_id).status == "RUNNING"
        assert runs.reconcile() == []  # once fixed, it stays fixed
    finally:
        for run in (live, elsewhere):
            runs.finish(run.run_id, "KILLED")


def test_cancel_ends_at_once_a_run_whose_launcher_is_dead(run_store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = runs.create(small().params(), "net002", "compare", cluster="local")
    runs.client().set_tag(run.run_id, "vp.owner", f"{socket.gethostname()}:{dead.pid}")
    runs.client().update_run(run.run_id, status="RUNNING")
    assert engine.cancel(run.run_id) == "FAILED"  # no worker is left to hear it: ended here, not asked
    assert runs.get(run.run_id).error == runs.LAUNCHER_GONE


def test_a_run_whose_launcher_on_another_host_stopped_beating_is_failed_by_the_next_listing(run_store):
    """A store shared by several machines: a run launched elsewhere whose launcher has not said it is alive for
    longer than runs.HEARTBEAT_STALE_S is FAILED at the next listing (what a page polls); one whose launcher
    beat a moment ago, and one on a shared cluster (which outlives its launcher), stay RUNNING."""
    c = runs.client()
    elsewhere = {"vp.owner": f"not-{socket.gethostname()}:4242"}
    silent = runs.create(small().params(), "net002", "compare", cluster="local", extra_tags=elsewhere)
    live = runs.create(small().params(), "net002", "compare", cluster="local", extra_tags=elsewhere)
    shared = runs.create(small().params(), "net002", "compare", cluster="remote", extra_tags=elsewhere)
    stale = time.time() - runs.HEARTBEAT_STALE_S - 10
    for run in (silent, shared):
        c.set_tag(run.run_id, "vp.heartbeat", f"{stale:.1f}")
    runs.beat([live.run_id])
    for run in (silent, live, shared):
        c.update_run(run.run_id, status="RUNNING")
    try:
        listed = {r.run_id: r for r in runs.search(lab="compare")}
        assert listed[silent.run_id].status == "FAILED"
        assert re.fullmatch(r"its launcher \(not-.+:4242\) stopped answering (4\d) s ago .*",
                            listed[silent.run_id].error), listed[silent.run_id].error
        assert listed[live.run_id].status == "RUNNING" and listed[shared.run_id].status == "RUNNING"
    finally:
        for run in (live, shared):
            runs.finish(run.run_id, "KILLED")


def test_a_launcher_beats_for_the_runs_it_waits_on_and_stops_with_them(run_store, monkeypatch):
    """The heartbeat a launching process writes every runs.HEARTBEAT_S while it watches its runs."""
    import threading

    monkeypatch.setattr(runs, "HEARTBEAT_S", 0.2)
    run = runs.create(small().params(), "net002", "compare", cluster="local")
    first = float(runs.get(run.run_id).tags["vp.heartbeat"])
    waiting = threading.Event()
    watcher = threading.Thread(target=waiting.wait, daemon=True)  # stands for the thread that waits on the worker
    monkeypatch.setitem(engine._watchers, run.run_id, watcher)
    engine.keep_beating()
    poll(lambda: float(runs.get(run.run_id).tags["vp.heartbeat"]) > first, 1.0, "heartbeat written")
    engine._watchers.pop(run.run_id)  # the run ended: nothing left to beat for
    poll(lambda: not [t for t in threading.enumerate() if t.name == engine.HEARTBEAT], 1.0, "end of the heartbeat")
    waiting.set()
    runs.finish(run.run_id, "KILLED")


@pytest.mark.slow
def test_a_run_whose_launcher_is_killed_is_failed_by_the_next_look(run_store, tmp_path):
    """``python -m core run --lab compare`` killed with SIGKILL while its run trains: the run's worker dies with the
    launcher's local cluster, and the next listing of runs (what a page polls every 2 s) says it failed."""
    said = tmp_path / "launcher.txt"
    launcher = subprocess.Popen(command_line.command("run", "--model", "net002", "--epochs", "10", "--limit", "3000",
                                                     "--no-augment", "--lab", "compare"), cwd=ROOT,
                                env=command_line.environment({"VP_HOME": str(run_store)}),
                                stdout=subprocess.DEVNULL, stderr=said.open("w"))
    owner = f"{socket.gethostname()}:{launcher.pid}"
    family = []
    try:
        deadline = time.monotonic() + START_S + 60
        run = None
        while time.monotonic() < deadline and launcher.poll() is None:
            mine = [r for r in runs.search(lab="compare", status=runs.ACTIVE) if r.tags.get("vp.owner") == owner]
            if mine and mine[0].status == "RUNNING":
                run = mine[0]
                break
            time.sleep(0.5)
        assert run is not None, f"the launched run never trained: {said.read_text()[-2000:]}"
        family = psutil.Process(launcher.pid).children(recursive=True)
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        seen = time.monotonic()
        active = {r.run_id for r in runs.search(lab="compare", status=runs.ACTIVE)}
        assert run.run_id not in active
        assert time.monotonic() - seen < 5
        after = runs.get(run.run_id)
        assert after.status == "FAILED" and after.error == runs.LAUNCHER_GONE
        assert runs.request_cancel(run.run_id) == "FAILED"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        # The launcher's Ray cluster goes with it; anything left after 10 s (for all of them together) is ended here.
        _, left = psutil.wait_procs(family, timeout=10)
        for process in left:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


# --- a run, end to end ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(engine_home):
    """Two tiny runs launched together from the Compare lab and waited for: a net002 (2 epochs) and a DNN
    (3 epochs, its own learning rate). Each test of this part reads them: one run end to end, a fresh process
    listing it, the states a run goes through (looked at every 0.1 s from its launch), two runs at once."""
    configs = {"net002": small(epochs=2, limit=1000, batch_size=32),
               "dnn": small("dnn", epochs=3, limit=1000, batch_size=32, learning_rate=0.002)}
    launched, launch_s = {}, {}
    for model, config in configs.items():
        launched_at = time.monotonic()
        launched[model] = engine.launch(config, "compare")
        launch_s[model] = time.monotonic() - launched_at
    seen = []  # the net002 run's states, looked at every 0.1 s from its launch to its end
    try:
        deadline = time.monotonic() + FINISH_S
        while time.monotonic() < deadline:
            now = runs.get(launched["net002"].run_id)
            if not seen or seen[-1] != now.state:
                seen.append(now.state)
            if now.status in runs.TERMINAL:
                break
            time.sleep(0.1)
        done = {model: runs.wait(run.run_id, timeout_s=max(deadline - time.monotonic(), 0), poll_s=0.2)
                for model, run in launched.items()}
    finally:
        stop_all(r.run_id for r in launched.values())
    return {"configs": configs, "launched": launched, "launch_s": launch_s, "seen": seen, "done": done}


@pytest.fixture(scope="module")
def finished_run(two_runs):
    """The net002 run of ``two_runs``: (its config, the run as launched, seconds launch took, the run ended)."""
    return (two_runs["configs"]["net002"], two_runs["launched"]["net002"], two_runs["launch_s"]["net002"],
            two_runs["done"]["net002"])


@pytest.mark.slow
def test_run_end_to_end_records_config_curves_scores_and_model(finished_run):
    config, launched, launch_s, run = finished_run
    assert launched.status in runs.ACTIVE and launch_s < stretched(15)  # launch returns at once, the run queued
    assert run.status == "FINISHED", run.error
    # All of the config, as params.
    expected = {k: str(v) for k, v in config.params().items()} | {"dataset": "mnist", "learning_rate": "0.001"}
    assert run.params == expected
    # Per-epoch curves, step = epoch (1-based), one point per epoch.
    curves = runs.curves(run.run_id)
    for key in CURVES:
        assert [step for step, _ in curves[key]] == [1, 2], (key, curves[key])
        assert all(math.isfinite(v) for _, v in curves[key]), (key, curves[key])
    assert curves["learning_rate"][0][1] == pytest.approx(0.001)
    assert curves["loss"][1][1] < curves["loss"][0][1]  # it learned something
    # Test scores and per-class scores.
    m = run.metrics
    assert 0.0 <= m["test_accuracy"] <= 1.0 and 0.0 <= m["macro_f1"] <= 1.0
    for name in ("precision", "recall", "f1"):
        for digit in range(10):
            assert 0.0 <= m[f"{name}_{digit}"] <= 1.0, f"{name}_{digit}"
    assert m["epochs_run"] == 2 and m["params"] == 21840
    # The model and its card as artifacts; the card agrees with the metrics.
    c = runs.client()
    assert {a.path for a in c.list_artifacts(run.run_id, "model")} == {"model/net002.keras", "model/net002.json"}
    assert "confusion_matrix.json" in {a.path for a in c.list_artifacts(run.run_id)}
    card = runs.card(run.run_id)
    assert card is not None and card["test_accuracy"] == pytest.approx(m["test_accuracy"])
    # Origin tags.
    assert run.tags["vp.lab"] == "compare" and run.lab == "compare"
    assert run.tags["vp.model"] == "net002" and run.tags["vp.dataset"] == "mnist"
    assert run.device
    assert run.tags["vp.worker"].startswith(socket.gethostname() + ":")
    # Its model is in the registry, titled after its run, and loads.
    name = f"{registry.RUN_PREFIX}{run.run_id}"
    spec = registry.get(name)
    assert spec.title == f"Net 002, run {run.number} (lr 0.001)"
    assert spec.base == "net002" and spec.dataset == "mnist"
    model = registry.load(name)
    assert model.count_params() == 21840
    probs = np.asarray(model(np.zeros((1, 28, 28, 1), "float32")))
    assert probs.shape == (1, 10) and abs(float(probs.sum()) - 1) < 1e-4
    assert name in runs.finished_models()


@pytest.mark.slow
def test_runs_survive_an_app_restart(finished_run):
    """A fresh process (a restarted app, a shell) reads the same store and sees the finished run."""
    _, _, _, run = finished_run
    assert run.status == "FINISHED", run.error
    out = command_line.cli("runs", timeout=180)  # VP_HOME: the session's store
    assert out.returncode == 0, out.stderr[-3000:]
    listed = {line["run_id"]: line for line in map(json.loads, out.stdout.splitlines())}
    assert listed[run.run_id]["status"] == "FINISHED"
    assert listed[run.run_id]["test_accuracy"] == pytest.approx(run.metrics["test_accuracy"])


@pytest.mark.slow
def test_a_run_whose_worker_loads_tensorflow_says_so_with_the_time_measured_here(finished_run, two_runs):
    """Between its slot and its first batch a worker loads TensorFlow (about 20 s on a busy laptop): the run says
    "starting its worker", not "queued", and how long that took is kept to say how long the next one will."""
    _, run, _, _ = finished_run
    seen = two_runs["seen"]  # its states, looked at every 0.1 s from its launch to its end
    assert seen[-1] == "FINISHED", seen
    assert "STARTING" in seen and seen.index("STARTING") < seen.index("RUNNING"), seen
    assert "QUEUED" not in seen[seen.index("STARTING"):], seen
    measured = float(runs.get(run.run_id).tags["vp.start_s"])
    assert 0 < measured < START_S
    runs._starts.clear()  # read once a minute: this test reads it at once
    assert runs.start_seconds() is not None
    usual = runs.start_seconds()
    starting = runs.RunInfo("x", 9, "", "net002", "compare", "SCHEDULED", tags={"vp.starting": "1000.0"})
    assert engine.starting_words(starting, now=1001.0).endswith(f"{usual:.0f} s here), about {usual - 1:.0f} s more")
    assert engine.starting_words(starting, now=1000.0 + usual + 5).endswith("any moment now")


# --- two runs at once ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_concurrent_runs_each_keep_their_own_curves(engine_home, two_runs):
    assert engine.max_runs() >= 2
    configs, done = two_runs["configs"], two_runs["done"]
    c = runs.client()
    for model, run in done.items():
        config = configs[model]
        assert run.status == "FINISHED", (model, run.error)
        assert run.model == model and run.params["model"] == model
        assert run.params["epochs"] == str(config.epochs) and run.params["learning_rate"] == str(config.lr)
        # One point per epoch, for exactly this run's epochs, and the same values as its own card's history.
        card = runs.card(run.run_id)
        assert card is not None and card["model"] == model
        for key in CURVES:
            history = c.get_metric_history(run.run_id, key)
            assert sorted(m.step for m in history) == list(range(1, config.epochs + 1)), (model, key)
            values = [m.value for m in sorted(history, key=lambda m: m.step)]
            assert values == pytest.approx(card["history"][key], abs=1e-5), (model, key)
        assert run.metrics["epochs_run"] == config.epochs
        assert run.metrics["params"] == card["params"]
    assert done["net002"].metrics["params"] != done["dnn"].metrics["params"]
    # They ran at the same time: each one's worker held its machine slot (from its start to the run's end) while
    # the other's did. Not their batches: on a busy machine the second worker loaded TensorFlow for longer than
    # the first run's 10 s of batches (a CI run: the DNN's last batch 35 ms before the net002's first).
    spans = {model: (float(run.tags[runs.Tag.STARTING]), run.end_time) for model, run in done.items()}
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1, spans


# --- cancel ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cancel_a_running_run_ends_killed_within_2_s(engine_home):
    run = engine.launch(long_run(), "cli")
    try:
        poll(lambda: training(run.run_id), START_S, "batch reported by the run", every_s=WAIT_S)
        asked = time.monotonic()
        assert engine.cancel(run.run_id) == "CANCELLING"
        ended = poll(lambda: runs.get(run.run_id).status in runs.TERMINAL, 10, "ending after the cancel")
        latency = time.monotonic() - asked
    finally:
        stop_all([run.run_id])
    after = runs.get(run.run_id)
    print(f"cancel latency {latency:.2f} s")
    assert ended and after.status == "KILLED", after.tags.get("vp.error")
    assert latency <= stretched(2.0), f"KILLED {latency:.2f} s after the request"
    assert after.tags.get("vp.has_model") is None
    assert runs.client().list_artifacts(run.run_id, "model") == []


@pytest.mark.slow
def test_cancel_a_run_before_its_first_batch_ends_killed_within_2_s_with_no_epoch(engine_home):
    run = engine.launch(long_run(), "cli")
    try:
        poll(lambda: runs.get(run.run_id).status == "RUNNING", START_S, "RUNNING state", every_s=0.1)
        asked = time.monotonic()
        engine.cancel(run.run_id)
        poll(lambda: runs.get(run.run_id).status in runs.TERMINAL, 60, "ending after the cancel")
        latency = time.monotonic() - asked
    finally:
        stop_all([run.run_id])
    print(f"cancel latency before the first batch {latency:.2f} s")
    assert runs.get(run.run_id).status == "KILLED"
    assert runs.curves(run.run_id)["loss"] == []  # no epoch was trained
    assert latency <= stretched(2.0), f"KILLED {latency:.2f} s after the request"


@pytest.mark.slow
def test_cancel_a_queued_run_kills_it_before_it_ever_trains(engine_home):
    """With every slot taken the next run waits (SCHEDULED); cancelled there, it ends KILLED and never starts."""
    slots = engine.max_runs()
    launched = [engine.launch(long_run(), "cli") for _ in range(slots + 1)]
    queued = launched[-1]
    try:
        for run in launched[:-1]:  # RUNNING: it holds its slot (its first batch would add nothing to wait for)
            poll(lambda run=run: runs.get(run.run_id).status == "RUNNING", START_S, "run holding a slot",
                 every_s=WAIT_S)
        assert runs.get(queued.run_id).status == "SCHEDULED"
        assert runs.get(queued.run_id).state == "QUEUED"
        asked = time.monotonic()
        assert engine.cancel(queued.run_id) == "KILLED"
        assert runs.get(queued.run_id).status == "KILLED"
        assert time.monotonic() - asked < stretched(1.0)
        # Free the slots: Ray then hands the queued task a worker, which must see it was cancelled.
        for run in launched[:-1]:
            assert engine.cancel(run.run_id) == "CANCELLING"
        for run in launched[:-1]:
            poll(lambda run=run: runs.get(run.run_id).status in runs.TERMINAL, 30, "end of a cancelled run")
            assert runs.get(run.run_id).status == "KILLED"
        watcher = engine._watchers.get(queued.run_id)
        if watcher is not None:  # its task has not come back from the cluster yet
            watcher.join(timeout=START_S)
            assert not watcher.is_alive(), "the cancelled queued run's task never came back"
    finally:
        stop_all(r.run_id for r in launched)
    after = runs.get(queued.run_id)
    assert after.status == "KILLED"
    assert "vp.worker" not in after.tags and "vp.device" not in after.tags  # never marked RUNNING
    assert runs.Tag.STARTING not in after.tags  # nor starting: its worker ended before loading TensorFlow
    assert not any(k in after.metrics for k in ("progress", "batch_loss", "loss", "test_accuracy"))
    assert runs.client().list_artifacts(queued.run_id) == []


# --- a worker that dies ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_worker_ends_the_run_failed_saying_the_worker_died(engine_home):
    run = engine.launch(long_run(), "cli")
    try:
        running = poll(lambda: training(run.run_id), START_S, "batch reported by the run", every_s=WAIT_S)
        host, pid = running.tags["vp.worker"].rsplit(":", 1)
        assert host == socket.gethostname()
        assert psutil.Process(int(pid)).is_running()
        # It gives way to the web server, but no more than that: not Ray's nice 15 plus its own 10.
        assert psutil.Process(int(pid)).nice() == engine.WORKER_NICENESS
        killed = time.monotonic()
        os.kill(int(pid), signal.SIGKILL)
        poll(lambda: runs.get(run.run_id).status in runs.TERMINAL, 30, "ending after the worker was killed")
        latency = time.monotonic() - killed
    finally:
        stop_all([run.run_id])
    after = runs.get(run.run_id)
    print(f"kill-to-FAILED latency {latency:.2f} s")
    assert after.status == "FAILED"
    assert re.search(r"worker\b.*\bdied", (after.error or "")), after.tags.get("vp.error")
    assert latency < 10, f"FAILED only {latency:.1f} s after the worker died"


# --- time left -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_time_left_is_within_2x_of_the_truth_from_the_first_one_shown(engine_home):
    """A convnet run of one to two minutes here: its first time left (and each after it, until the last 10 s) is
    within a factor of 2 of the time the run really went on for, although its start (TensorFlow, the data, the
    model, tracing) took a good part of it (50 s of 140 s on a busy machine)."""
    run = engine.launch(small("convnet", epochs=3, limit=3000, batch_size=32, augment=True), "cli")
    try:
        done = runs.wait(run.run_id, timeout_s=2 * FINISH_S, poll_s=0.5)
    finally:
        stop_all([run.run_id])
    assert done.status == "FINISHED", done.error
    c = runs.client()
    said = sorted(c.get_metric_history(run.run_id, "eta_s"), key=lambda m: m.step)[:-1]  # the last: 0 at the end
    started = min(m.timestamp for m in c.get_metric_history(run.run_id, "progress")) / 1000
    assert said, "no time left was given"
    first = said[0]
    truth = done.end_time - first.timestamp / 1000
    print(f"run of {done.end_time - done.start_time:.0f} s ({started - done.start_time:.0f} s before its first "
          f"batch): first time left {first.value:.1f} s, {first.timestamp / 1000 - started:.1f} s after the first "
          f"batch; truth {truth:.1f} s")
    # On a machine as busy as now: the run after the estimate (its last batches, its test digits, the model saved
    # and logged) slows with the other work on the cores more than the batches it was measured on (14 s said,
    # 31 s true at load 3.8 here; the first: 31 s said, 67 s true in a CI run).
    factor = stretched(2.0)
    assert truth / factor <= first.value <= factor * truth, f"first time left {first.value:.0f} s, truth {truth:.0f} s"
    for m in said:
        left = done.end_time - m.timestamp / 1000
        if left > 10:
            assert left / factor <= m.value <= factor * left, f"{m.value:.0f} s left said, {left:.0f} s true"
