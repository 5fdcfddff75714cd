"""The run engine: every training in the app runs as a Ray task and is recorded by ``core.lab.runs``.

With no setting, Ray starts a private local cluster on this machine on first
use (it ends with the process that started it). With ``RAY_ADDRESS`` set, the
same code submits to that cluster: a class's GPU machines started with
``ray start``. A run asks for one GPU when the cluster has GPUs, CPUs
otherwise; at most ``VP_MAX_RUNS`` runs (default 2) train at once on this
machine, and the others wait, shown as queued: in Ray's queue within one process,
and for one of the machine's run slots (lock files under ``VP_HOME/slots``, shared
by the app and every ``python -m core run``) across processes.

The worker lowers its own priority and caps TensorFlow's threads, so the web
server on the same cores keeps answering strokes while a run trains.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import traceback
from collections.abc import Callable

from core.base import paths, settings
from core.lab import reach, runs

MAX_RUNS_ENV = settings.VP_MAX_RUNS.name
GPUS_ENV = settings.VP_GPUS_PER_RUN.name
WORKER_NICENESS = 10  # a training gives way to the web server (nice 0) on the same cores
SLOT = "vp_run_slot"  # a custom resource of the local cluster: one per run that may train at once
SLOTS_ENV = settings.VP_RUN_SLOTS.name
# Where keras.datasets downloads a missing data set from: a launch checks it answers before counting on it.
DOWNLOADS = {"mnist": "storage.googleapis.com", "cifar10": "www.cs.toronto.edu"}
_lock = threading.Lock()
_watchers: dict[str, threading.Thread] = {}  # the runs this process launched and waits on
HEARTBEAT = "run-heartbeat"  # the thread that says, every few seconds, that this process's runs are alive
_beats = threading.Lock()
_beating = False  # that thread is running


def max_runs() -> int:
    """How many runs may train at once on the local cluster (``VP_MAX_RUNS``, default 2)."""
    return settings.VP_MAX_RUNS.number()


def cluster_kind() -> str:
    """'local' for the private cluster this process starts, else the ``RAY_ADDRESS`` it joins."""
    return settings.RAY_ADDRESS.get() or "local"


def _worker_env() -> dict[str, str]:
    env = {"MLFLOW_TRACKING_URI": runs.tracking_uri(), "VP_HOME": str(paths.vp_home()),
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(paths.ROOT), "RAY_AIR_NEW_OUTPUT": "0"}
    for setting in (settings.VP_DATA_DIR, settings.KERAS_HOME):
        if setting.get():
            env[setting.name] = setting.get()
    return env


def task_env() -> dict:
    """Per task, not per cluster: the store and folders in force when the run is launched."""
    env = _worker_env()
    if cluster_kind() != "local":
        env["PYTHONPATH"] = "."  # the job's working_dir, shipped to the remote cluster
    else:
        env[SLOTS_ENV] = str(max_runs())
    return {"runtime_env": {"env_vars": env}}


def connected() -> bool:
    """Whether this process has started (or joined) its Ray cluster yet."""
    import ray

    return ray.is_initialized()


def connect() -> None:
    """Start (or join) the Ray cluster once per process."""
    import ray

    with _lock:
        if ray.is_initialized():
            return
        runs.experiment_id()  # create the store here, once: two workers creating it at once would clash
        if threading.current_thread() is threading.main_thread():
            _init()
            return
        # Ray ties the local cluster's processes to the *thread* that starts them (PR_SET_PDEATHSIG): started
        # from a Streamlit script thread, the cluster would die as soon as that rerun ended. A thread that lives
        # as long as the process owns it instead.
        ready, failed = threading.Event(), []

        def own() -> None:
            try:
                _init()
            except BaseException as e:  # noqa: BLE001 - handed to the caller below
                failed.append(e)
            finally:
                ready.set()
            if not failed:
                threading.Event().wait()

        threading.Thread(target=own, name="ray-cluster-owner", daemon=True).start()
        ready.wait()
        if failed:
            raise failed[0]


def _init() -> None:
    import ray

    env = _worker_env()
    if cluster_kind() == "local":
        # Ray starts its workers at nice 15; ours set their own (WORKER_NICENESS) in ``execute``.
        ray.init(address="local", num_cpus=os.cpu_count(), resources={SLOT: max_runs()},
                 include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 namespace="vision-playground", runtime_env={"env_vars": env},
                 _system_config={"worker_niceness": 0})
    else:  # a remote cluster gets the project's code with each job
        reach.check_cluster(settings.RAY_ADDRESS.get())  # seconds, not Ray's minutes of retries; sets the token mode
        ray.init(address=settings.RAY_ADDRESS.get(), log_to_driver=False, logging_level=logging.ERROR,
                 namespace="vision-playground",
                 runtime_env={"env_vars": env | {"PYTHONPATH": "."}, "working_dir": str(paths.ROOT),
                              "excludes": [".git", "assets/screenshots", "tests", "bench", "*.pyc"]})


def check_data(dataset: str) -> None:
    """Refuse at once a run whose data set is neither on this machine nor downloadable from here (``DataError``),
    rather than let its worker find out after starting TensorFlow."""
    from core.data import datasets

    spec = datasets.get_dataset(dataset)
    if datasets.dataset_path(dataset) is not None:
        return
    root = datasets.get_dataset(spec.parent) if spec.kind == "subset" else spec
    host = DOWNLOADS.get(root.name)
    problem = reach.tcp_problem(host, 443) if host else None
    if problem or not host:
        why = f" and cannot be downloaded ({problem})" if host else ""
        raise datasets.DataError(f"{root.title} is not on this machine{why}: put {root.file} in a folder and set "
                                 f"VP_DATA_DIR to it (now {datasets.data_dir() or 'not set'}).")


def _resources() -> dict:
    """What one run asks of the cluster: a GPU when there are any, a CPU share and a slot otherwise."""
    import ray

    total = ray.cluster_resources()
    if total.get("GPU", 0) >= 1:
        gpus = settings.VP_GPUS_PER_RUN.number()
        return {"num_gpus": min(gpus, int(total["GPU"])), "num_cpus": 1}
    if SLOT in total:
        return {"num_cpus": max(1, int(total.get("CPU", 1)) // max_runs()), "resources": {SLOT: 1}}
    return {"num_cpus": 1}


def launch(config, lab: str, group: str | None = None, varied: tuple[str, ...] = ()) -> runs.RunInfo:
    """Record a run (queued) and submit it to the cluster; returns at once. ``config`` is a TrainConfig."""
    import ray

    config.validate()  # a bad config is refused before anything is recorded or started
    if lab not in runs.LABS:  # and so is an unknown lab, before a cluster starts for it
        raise ValueError(f"unknown lab {lab!r}; one of {', '.join(runs.LABS)}")
    if cluster_kind() == "local":
        check_data(config.dataset)
    connect()
    tags = {runs.Tag.VARIED: ",".join(varied)}
    if group:
        tags[runs.Tag.GROUP] = group
    params = config.params() | {"dataset": config.dataset, "learning_rate": config.lr}
    tags[runs.Tag.RECIPE] = getattr(config, "recipe", "train")
    run = runs.create(params, config.model, lab, cluster_kind(), tags)
    resources = _resources()
    # A fresh worker process per run (max_calls=1): TensorFlow's memory and settings go with it.
    task = ray.remote(max_retries=0, max_calls=1, **resources)(execute)
    ref = task.options(**task_env()).remote(run.run_id, config.params(), tags[runs.Tag.RECIPE])
    watch(run.run_id, ref)
    return run


def watch(run_id: str, ref) -> None:
    """A thread in the launching process that records FAILED when the worker dies without a word."""
    import ray

    def wait() -> None:
        try:
            ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            runs.finish(run_id, "KILLED")
        except ray.exceptions.RayError as e:
            reason = {"WorkerCrashedError": "its worker process died (killed, or out of memory)",
                      "OutOfMemoryError": "it ran out of memory",
                      "NodeDiedError": "the machine running it left the cluster"}.get(type(e).__name__)
            runs.finish(run_id, "FAILED", f"The run stopped: {reason or type(e).__name__}. {e}"[:2000])
        except Exception as e:  # noqa: BLE001 - whatever it was, the run must not stay RUNNING
            runs.finish(run_id, "FAILED", f"{type(e).__name__}: {e}")
        finally:
            _watchers.pop(run_id, None)

    thread = threading.Thread(target=wait, name=f"watch-{run_id[:8]}", daemon=True)
    with _beats:
        _watchers[run_id] = thread
    thread.start()
    keep_beating()


def keep_beating() -> None:
    """While this process waits on runs it launched, a side thread writes their heartbeat every
    ``runs.HEARTBEAT_S``: a page on another machine sharing the store tells from it that they are still alive.
    One thread per process; it ends when no run is left to watch."""
    global _beating
    with _beats:
        if _beating:
            return
        _beating = True
    threading.Thread(target=_beat, name=HEARTBEAT, daemon=True).start()


def _beat() -> None:
    global _beating
    while True:
        with _beats:  # the decision to end and a new run's watch cannot cross
            watched = list(_watchers)
            if not watched:
                _beating = False
                return
        try:
            runs.beat(watched)
        except Exception:  # noqa: BLE001 - a store that did not answer this time: the next beat tries again
            logging.getLogger(__name__).warning("could not write the runs' heartbeat", exc_info=True)
        time.sleep(runs.HEARTBEAT_S)


def starting_words(run: runs.RunInfo, now: float | None = None) -> str:
    """What a run whose worker is starting is doing, and for how long more, from the starts measured here."""
    usual = runs.start_seconds()
    if usual is None:
        return "starting its worker (a new process loads TensorFlow)"
    left = usual - ((now or time.time()) - float(run.tags.get(runs.Tag.STARTING, run.start_time)))
    more = f"about {left:.0f} s more" if left >= 1 else "any moment now"
    return f"starting its worker (a new process loads TensorFlow: {usual:.0f} s here), {more}"


def cancel(run_id: str) -> str:
    """Ask a run to stop; it ends KILLED within one batch (queued runs at once)."""
    return runs.request_cancel(run_id)


class _Recorder:
    """A worker's side thread: writes progress to the store in order, and looks for a cancel every 0.5 s."""

    def __init__(self, run_id: str, poll_s: float = 0.5):
        self.run_id, self.poll_s = run_id, poll_s
        self.queue: queue.Queue = queue.Queue()
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"record-{run_id[:8]}", daemon=True)
        self.thread.start()

    def put(self, log, step: int, metrics: dict) -> None:
        self.queue.put((log, step, dict(metrics)))

    def _loop(self) -> None:
        next_poll = time.monotonic()
        while True:
            try:
                item = self.queue.get(timeout=max(0.0, next_poll - time.monotonic()))
            except queue.Empty:
                item = ()
            if item is None:
                return
            try:
                if item:
                    log, step, metrics = item
                    log(self.run_id, step, metrics)
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll_s
                    if runs.cancel_requested(self.run_id):
                        self.cancelled.set()
            except Exception:  # noqa: BLE001 - a store hiccup loses one point of a curve, not the run
                logging.getLogger(__name__).warning("could not record progress of run %s", self.run_id,
                                                    exc_info=True)

    def close(self) -> None:
        """Write what is still queued, then stop."""
        self.queue.put(None)
        self.thread.join(timeout=30)


class TimeLeft:
    """A run's time left, from the batches measured so far.

    Not from the run's start: a worker spends its first seconds to a minute importing TensorFlow, loading the
    data, building the net and tracing its first batch, which says nothing of how long the rest will take
    (counted in, a one-minute run was first said to have 1,700 to 7,000 s left). The clock starts at the first
    batch reported; from the second on, the time left is the time per unit of progress since then, times the
    progress still to make. Epoch ends (validation, a new pass over the data) come into it as they happen;
    the work after the last batch (testing the model) is the recipe's to add, in its events' ``after_s``.
    """

    def __init__(self) -> None:
        self.first: tuple[float, float] | None = None  # (progress, time) at the first batch reported

    def update(self, done: float, now: float) -> float | None:
        """The time left at ``now``, with ``done`` (0-1) of the run done; None until a rate is measured."""
        if self.first is None:
            self.first = (done, now)
            return None
        done0, t0 = self.first
        if done <= done0 or now <= t0:
            return None
        return (now - t0) / (done - done0) * max(1.0 - done, 0.0)


class Progress:
    """A worker's progress callback: turns a recipe's events into the run's live metrics, written by ``recorder``
    (anything with ``put(log, step, metrics)``). ``clock`` is for tests."""

    def __init__(self, run_id: str, recorder, clock: Callable[[], float] = time.monotonic):
        self.run_id, self.recorder, self.clock = run_id, recorder, clock
        self.time_left = TimeLeft()
        self.step = 0

    def __call__(self, event: dict) -> None:
        if event["kind"] == "batch":
            done = min((event["epoch"] + event["batch"] / event["batches"]) / event["epochs"], 1.0)
            self.step += 1
            metrics = {"progress": done, "epoch_now": event["epoch"] + 1, "epochs_total": event["epochs"]}
            for key in ("loss", "accuracy"):  # the means of the batches since the last report
                if event.get(key) is not None:
                    metrics[f"batch_{key}"] = event[key]
            eta = self.time_left.update(done, self.clock())
            if eta is not None:
                metrics["eta_s"] = eta + (event.get("after_s") or 0.0)  # and the testing after the last batch
            self.recorder.put(runs.log_progress, self.step, metrics)
        elif event["kind"] == "epoch":
            self.recorder.put(runs.log_epoch, event["epoch"], event["logs"])


# A run's ``recipe`` param -> the module holding its config class and its training function. They are imported by
# name in the worker only, so launching a run never loads TensorFlow into the app's process.
RECIPES = {
    "train": ("core.training.train", "TrainConfig", "train"),  # digits and photos from scratch
    "transfer": ("core.training.letter_transfer", "TransferConfig", "train_transfer"),  # letters from digits
    "backbone": ("core.training.backbone_transfer", "BackboneConfig", "train_backbone"),  # photos from a backbone
    "class": ("core.training.class_finetune", "ClassConfig", "train_class"),  # a Draw network on a class's hands
}


def _recipe(name: str, params: dict):
    """The config and the training function of the recipe ``name`` (see ``RECIPES``)."""
    import importlib

    module, config_class, function = RECIPES[name]
    module = importlib.import_module(module)
    config = getattr(module, config_class)(**{k: v for k, v in params.items() if k != "recipe"})
    return config, getattr(module, function)


def give_way() -> None:
    """Lower this worker to ``WORKER_NICENESS``, so the web server on the same cores answers strokes first.

    Not lower: at nice 19 (Ray's default of 15, plus 10) a small net trained at 89% of a bare fit's speed on a
    quiet machine, at nice 10 as fast (bench/bench_engine.py)."""
    try:
        os.nice(max(0, WORKER_NICENESS - os.nice(0)))
    except OSError:
        pass


_held_slot = None  # the worker's machine slot, held until it exits (max_calls=1: one run per worker process)


def take_slot(run_id: str, slots: int, poll_s: float = 0.5):
    """Wait for one of this machine's ``slots`` run slots; return its lock, or None when the run was cancelled.

    A slot is an exclusive lock on ``VP_HOME/slots/<i>.lock``: every process launching runs on this machine
    (the app, each ``python -m core run``) starts its own local cluster, and the slots cap how many of all
    their runs train at once. The system lets a slot go when its worker ends, however it ends. While it waits
    the run stays SCHEDULED (queued), and a cancel ends it at once.
    """
    from filelock import FileLock, Timeout

    folder = paths.vp_home() / "slots"
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for i in range(slots):
            lock = FileLock(str(folder / f"{i}.lock"), timeout=0, thread_local=False)
            try:
                lock.acquire()
                return lock
            except Timeout:
                pass
        if runs.cancel_requested(run_id):
            return None
        time.sleep(poll_s)


def _node_id() -> str | None:
    """The Ray node this worker runs on, or None outside Ray."""
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    except Exception:  # noqa: BLE001 - a label, never a reason to fail a run
        return None


def execute(run_id: str, params: dict, recipe: str = "train") -> str:
    """The worker: train one run, recording its progress, result and ending in the store."""
    global _held_slot
    give_way()
    slots = settings.VP_RUN_SLOTS.number(least=0)
    if slots > 0:
        _held_slot = take_slot(run_id, slots)
        if _held_slot is None:
            return "KILLED"  # cancelled while it waited for a slot
    if runs.cancel_requested(run_id):  # cancelled while it waited in Ray's queue: it ends here, before TensorFlow
        return "KILLED"  # loads, rather than hold a slot and the cores for the seconds that takes
    runs.mark_starting(run_id)  # TensorFlow takes seconds to load: the run says so rather than "queued"
    from core.base import device

    gpus = settings.CUDA_VISIBLE_DEVICES.get()
    threads = settings.OMP_NUM_THREADS.number() if not gpus else None
    device.configure_threads(intra_op=threads, inter_op=2 if threads else None)
    from core.training.kit import Cancelled

    worker = f"{socket.gethostname()}:{os.getpid()}"
    if not runs.mark_running(run_id, device.device_label(), worker, _node_id()):
        return "KILLED"  # cancelled while it waited in the queue
    out = paths.vp_home() / "runs" / run_id
    config, train = _recipe(recipe, params)
    config.out_dir = str(out)
    config.command = f"lab run {run_id}"
    # The store is written and polled from a side thread, so the training loop never waits on a database.
    recorder = _Recorder(run_id)
    progress = Progress(run_id, recorder)

    try:
        card = train(config, progress, recorder.cancelled.is_set)
    except Cancelled:
        recorder.close()
        runs.finish(run_id, "KILLED")
        return "KILLED"
    except Exception as e:  # noqa: BLE001 - recorded for the student, then the task ends
        recorder.close()
        from core.data.datasets import DataError

        # A missing or broken data set is said in one sentence; anything else keeps its traceback for whoever debugs.
        runs.finish(run_id, "FAILED", str(e) if isinstance(e, DataError) else
                    f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")
        return "FAILED"
    recorder.close()
    from core.data import datasets

    runs.log_result(run_id, card, out / f"{config.model}.keras", out / f"{config.model}.json",
                    datasets.get_dataset(config.dataset).classes)
    runs.client().set_tag(run_id, runs.Tag.HAS_MODEL, "1")
    runs.log_progress(run_id, progress.step + 1, {"progress": 1.0, "eta_s": 0.0})
    runs.finish(run_id, "FINISHED")
    return "FINISHED"

