"""The run store: every training run in the app is an MLflow run.

MLflow keeps each run's config (params), its per-epoch curves and live
progress (metrics), its state and origin (tags) and its model and card
(artifacts). The store is ``sqlite:///$VP_HOME/mlflow.db`` with artifacts under
``$VP_HOME/mlartifacts`` unless ``MLFLOW_TRACKING_URI`` names another (a shared
tracking server for a class). ``mlflow ui --backend-store-uri <uri>`` shows the
same runs.

This module only records and reads; ``core.lab.store`` opens the store (making or repairing a
local one) and ``core.lab.engine`` executes runs on Ray.
A run goes SCHEDULED (queued) -> RUNNING -> FINISHED, KILLED (cancelled) or
FAILED (an error, or its worker died); none is left RUNNING: runs whose local
cluster died with the process that launched them are marked FAILED when they
are next read (``search``, ``reconcile``, a cancel). The launcher's process id
tells on its own machine; its heartbeat (``beat``, every ``HEARTBEAT_S``) tells
on any machine that shares the store.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from core.base import paths
from core.lab import reach, store
from core.nets import registry

EXPERIMENT = "vision-playground"
LABS = ("compare", "lr-sweep", "grid", "search", "cifar", "tiny", "transfer", "cli", "class")
ACTIVE = ("SCHEDULED", "RUNNING")
TERMINAL = ("FINISHED", "KILLED", "FAILED")
_numbering = threading.Lock()
EPOCH_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate", "epoch_seconds")

Unavailable = reach.Unavailable  # a setting names a store (or cluster) this machine cannot use


class Tag:
    """The tags the app writes on a run, named once: what the run is and where it came from."""

    MODEL = "vp.model"
    LAB = "vp.lab"
    NUMBER = "vp.number"
    OWNER = "vp.owner"
    HEARTBEAT = "vp.heartbeat"  # when its launcher last said it is alive (seconds since the epoch)
    CLUSTER = "vp.cluster"
    DATASET = "vp.dataset"
    DEVICE = "vp.device"
    WORKER = "vp.worker"
    NODE = "vp.node"  # the Ray node that ran it (on a cluster of several machines: which one)
    ERROR = "vp.error"
    CANCEL = "vp.cancel"
    GROUP = "vp.group"
    VARIED = "vp.varied"
    RECIPE = "vp.recipe"
    KIND = "vp.kind"
    HAS_MODEL = "vp.has_model"
    STOPPED_EARLY = "vp.stopped_early"
    TRIAL = "vp.trial"
    SECONDS = "vp.seconds"
    STARTING = "vp.starting"  # when its worker got a slot and began to load TensorFlow (seconds since the epoch)
    START_S = "vp.start_s"  # seconds from then until it trained: how long a worker takes to start here
    BEST = "vp.best."  # a search's best trial: one tag per hyperparameter, and the run id


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set (a shared server), else the SQLite file under ``VP_HOME``."""
    return reach.store_uri()


def client():
    """The MLflow client of the current store (one per process and store)."""
    return store.open_client(tracking_uri())


@cache
def _experiment_id(uri: str) -> str:
    c = store.open_client(uri)
    exp = c.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    artifacts = None
    if uri.startswith("sqlite:"):  # a local store keeps its artifacts beside it, not in the working folder
        artifacts = (paths.vp_home() / "mlartifacts").as_uri()
    try:
        return c.create_experiment(EXPERIMENT, artifact_location=artifacts)
    except Exception:  # noqa: BLE001 - another process created it first
        return c.get_experiment_by_name(EXPERIMENT).experiment_id


def experiment_id() -> str:
    return _experiment_id(tracking_uri())


LONG_TITLE = 30  # characters of a model's title a table column shows (Compare's "network"): runs differ after them


@dataclass
class RunInfo:
    """What the pages and the CLI show of a run."""

    run_id: str
    number: int
    name: str
    model: str
    lab: str
    status: str
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    start_time: float = 0.0
    end_time: float | None = None

    @property
    def state(self) -> str:
        """SCHEDULED shows as queued: waiting for a free slot on the cluster. So does a run just created: MLflow
        makes every run RUNNING, and ``create`` turns it SCHEDULED a moment later; a worker names itself first.
        A worker that has its slot and is loading TensorFlow shows as STARTING."""
        if self.status == "SCHEDULED" or (self.status == "RUNNING" and Tag.WORKER not in self.tags):
            return "STARTING" if Tag.STARTING in self.tags else "QUEUED"
        return self.status

    @property
    def progress(self) -> float:
        return float(self.metrics.get("progress", 1.0 if self.status == "FINISHED" else 0.0))

    @property
    def has_model(self) -> bool:
        """Whether the run stored a trained model (a search trial stopped early has none)."""
        return self.tags.get(Tag.HAS_MODEL) == "1"

    @property
    def dataset(self) -> str:
        return self.tags.get(Tag.DATASET, "mnist")

    @property
    def device(self) -> str:
        return self.tags.get(Tag.DEVICE, "")

    @property
    def error(self) -> str | None:
        return self.tags.get(Tag.ERROR)

    @property
    def recipe(self) -> str:
        return self.tags.get(Tag.RECIPE, "train")

    @property
    def kind(self) -> str | None:
        """'search' for the run that holds a Ray Tune search (its trials are runs of their own)."""
        return self.tags.get(Tag.KIND)

    @property
    def stopped_early(self) -> bool | None:
        """For a search trial: whether ASHA stopped it (None until it is known)."""
        return {"1": True, "0": False}.get(self.tags.get(Tag.STOPPED_EARLY, ""))

    @property
    def varied(self) -> tuple[str, ...]:
        """The hyperparameters its launch varied (for labels)."""
        return tuple(k for k in self.tags.get(Tag.VARIED, "").split(",") if k)

    @property
    def best(self) -> dict[str, str]:
        """For a search: its best trial's hyperparameters and ``run_id``."""
        return {k.removeprefix(Tag.BEST): v for k, v in self.tags.items() if k.startswith(Tag.BEST)}

    @property
    def label(self) -> str:
        """'ConvNet, run 7 (lr 0.01)': how a run's model is named beside the shipped ones."""
        title = registry.REGISTRY[self.model].title if self.model in registry.REGISTRY else self.model
        knobs = [f"lr {float(self.params['learning_rate']):g}" if self.params.get("learning_rate") not in
                 (None, "None") else ""]
        for key, short in (("dropout", "dropout "), ("kernel_size", "kernel "), ("batch_size", "batch "),
                           ("mode", ""), ("labels_per_class", "labels/class ")):
            if self.params.get(key) not in (None, "None") and key in self.varied:
                knobs.append(f"{short}{self.params[key]}")
        extra = ", ".join(k for k in knobs if k)
        if len(title) > LONG_TITLE:  # the run and its knobs first, where a table's narrow column shows them
            return f"Run {self.number}" + (f" ({extra})" if extra else "") + f": {title}"
        return f"{title}, run {self.number}" + (f" ({extra})" if extra else "")

    def as_json(self) -> dict:
        keys = ("test_accuracy", "macro_f1", "val_accuracy", "train_seconds", "epochs_run", "params")
        return {"run_id": self.run_id, "number": self.number, "name": self.name, "model": self.model,
                "lab": self.lab, "status": self.status, "progress": round(self.progress, 4),
                **{k: self.metrics[k] for k in keys if k in self.metrics},
                "error": self.error, "device": self.tags.get(Tag.DEVICE),
                "config": self.params}


def _info(run) -> RunInfo:
    tags = dict(run.data.tags)
    return RunInfo(run_id=run.info.run_id, number=int(tags.get(Tag.NUMBER, 0)), name=run.info.run_name or "",
                   model=tags.get(Tag.MODEL, "?"), lab=tags.get(Tag.LAB, "?"), status=run.info.status,
                   params=dict(run.data.params), metrics=dict(run.data.metrics), tags=tags,
                   start_time=(run.info.start_time or 0) / 1000,
                   end_time=run.info.end_time / 1000 if run.info.end_time else None)


def owner() -> str:
    """Who launched a run: host and process, so a later app can tell a run orphaned by a dead process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create(params: dict, model: str, lab: str, cluster: str, extra_tags: dict | None = None) -> RunInfo:
    """Record a new queued run (status SCHEDULED) with all of its config as params."""
    from mlflow.entities import Param, RunTag

    if lab not in LABS:
        raise ValueError(f"unknown lab {lab!r}; one of {', '.join(LABS)}")
    c = client()
    title = registry.REGISTRY[model].title if model in registry.REGISTRY else model
    with _numbering:  # two launches at once (two tabs, a double click) must not share a number
        number = _next_number()
        tags = {Tag.MODEL: model, Tag.LAB: lab, Tag.NUMBER: str(number), Tag.OWNER: owner(),
                Tag.HEARTBEAT: f"{time.time():.1f}", Tag.CLUSTER: cluster,
                Tag.DATASET: params.get("dataset", "mnist"), **(extra_tags or {})}
        run = c.create_run(experiment_id(), run_name=f"{title} #{number}", tags=tags)
    run_id = run.info.run_id
    c.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag("mlflow.runName", f"{title} #{number}")])
    c.update_run(run_id, status="SCHEDULED")
    return get(run_id)


def _next_number() -> int:
    """Runs are numbered 1, 2, 3... in the order they were launched, so people can say 'run 7'."""
    latest = client().search_runs([experiment_id()], max_results=1, order_by=["attributes.start_time DESC"])
    return int(latest[0].data.tags.get(Tag.NUMBER, 0)) + 1 if latest else 1


def get(run_id: str) -> RunInfo:
    """One run, by its MLflow id."""
    from mlflow.exceptions import MlflowException

    try:
        return _info(client().get_run(run_id))
    except MlflowException:
        raise LookupError(f"no run {run_id!r} in the store at {tracking_uri()}") from None


def search(lab: str | None = None, status: Iterable[str] | None = None, model: str | None = None,
           dataset: str | None = None, group: str | None = None, max_results: int = 500) -> list[RunInfo]:
    """Runs, newest first, filtered by lab, status, model, data set or launch group.

    The store filters what its filter language can say; the rest (a status among several, a value holding both
    kinds of quote) is compared here, among the ``max_results`` newest runs the store returns."""
    wanted = {key: value for key, value in ((Tag.LAB, lab), (Tag.MODEL, model), (Tag.DATASET, dataset),
                                            (Tag.GROUP, group)) if value is not None}
    filters = [f"tags.`{key}` = {_quoted(value)}" for key, value in wanted.items() if _quoted(value)]
    status = list(status) if status is not None else None
    if status is not None and len(status) == 1 and _quoted(status[0]):  # MLflow compares a status with one value
        filters.append(f"attributes.status = {_quoted(status[0])}")
    found = client().search_runs([experiment_id()], filter_string=" AND ".join(filters),
                                 max_results=max_results, order_by=["attributes.start_time DESC"])
    found = [r for r in found if all(r.data.tags.get(key) == value for key, value in wanted.items())]
    infos = [_orphan_checked(_info(r)) for r in found]  # a page polls this: a dead launcher shows within a poll
    return [r for r in infos if status is None or r.status in status]


def _quoted(value: str) -> str | None:
    """``value`` as a string in an MLflow filter, or None when the filter language cannot hold it.

    The language has no escapes: a string ends at the next quote of the kind it began with (and its parser reads
    a backslash as escaping the next character, which MLflow then keeps). So a value holding a ``'`` is put in
    double quotes, and one holding both kinds, or a backslash, cannot be written (the caller compares it
    itself); built by hand from the value, a name with a quote would break the search or widen it."""
    value = str(value)
    if "\\" in value:
        return None
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


def latest_by(found: Iterable[RunInfo], key) -> dict:
    """The newest run for each value of ``key(run)``: one run per table cell (``found`` newest first, as
    ``search`` gives them)."""
    latest = {}
    for run in found:
        latest.setdefault(key(run), run)
    return latest


def curves(run_id: str, keys: Iterable[str] = EPOCH_METRICS) -> dict[str, list[tuple[int, float]]]:
    """Per-epoch metric histories as (epoch, value) pairs."""
    c = client()
    return {k: [(m.step, m.value) for m in sorted(c.get_metric_history(run_id, k), key=lambda m: m.step)]
            for k in keys}


# --- what a worker records ------------------------------------------------------------------------------------


def mark_starting(run_id: str) -> None:
    """The worker has its slot and loads TensorFlow: no longer queued, not yet training."""
    client().set_tag(run_id, Tag.STARTING, f"{time.time():.3f}")


def mark_running(run_id: str, device_label: str, worker: str, node: str | None = None) -> bool:
    """The worker starts: RUNNING, unless the run was cancelled while it waited (then False). The time since
    ``mark_starting``, the worker's start, is recorded for ``start_seconds``."""
    from mlflow.entities import RunTag

    c = client()
    run = c.get_run(run_id)
    if run.info.status in TERMINAL:
        return False
    tags = [RunTag(Tag.DEVICE, device_label), RunTag(Tag.WORKER, worker)] + ([RunTag(Tag.NODE, node)] if node else [])
    if Tag.STARTING in run.data.tags:
        tags.append(RunTag(Tag.START_S, f"{time.time() - float(run.data.tags[Tag.STARTING]):.1f}"))
    c.log_batch(run_id, tags=tags)  # the worker is named first: a RUNNING run without one still shows queued
    c.update_run(run_id, status="RUNNING")
    if c.get_run(run_id).data.tags.get(Tag.CANCEL) == "1":  # cancelled between the two looks: it stays cancelled
        c.set_terminated(run_id, status="KILLED")
        return False
    return True


START_RUNS = 10  # the recent runs whose starts ``start_seconds`` reads
_starts: dict[str, tuple[float, float | None]] = {}  # store -> (when read, median start), read once a minute


def start_seconds() -> float | None:
    """How long a worker takes to start here (from its slot to its first batch: loading TensorFlow and the data):
    the median of the last ``START_RUNS`` runs' measured starts, or None before any run has started."""
    uri = tracking_uri()
    read, median = _starts.get(uri, (0.0, None))
    if time.monotonic() - read > 60:
        found = client().search_runs([experiment_id()], max_results=100, order_by=["attributes.start_time DESC"])
        starts = sorted([float(r.data.tags[Tag.START_S]) for r in found if Tag.START_S in r.data.tags][:START_RUNS])
        median = starts[len(starts) // 2] if starts else None
        _starts[uri] = (time.monotonic(), median)
    return median


def log_progress(run_id: str, step: int, metrics: dict[str, float]) -> None:
    """Live numbers (progress, batch loss, time left), one batch of writes."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client().log_batch(run_id, metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()])


def log_epoch(run_id: str, epoch: int, logs: dict[str, float]) -> None:
    """One epoch's curves, with step = epoch (1-based)."""
    log_progress(run_id, epoch, {k: v for k, v in logs.items() if k in EPOCH_METRICS})


def log_result(run_id: str, card: dict, model_file: Path, card_file: Path, classes: Iterable[str]) -> None:
    """Test scores as metrics, per-class scores too, and the model and its card as artifacts."""
    metrics = {k: card[k] for k in ("test_accuracy", "macro_f1", "params", "epochs_run", "train_seconds",
                                    "test_accuracy_before") if k in card}
    if "transfer_params" in card:  # what freezing left to learn
        metrics["trainable_params"] = card["transfer_params"]["trainable"]
        metrics["non_trainable_params"] = card["transfer_params"]["non_trainable"]
    for name in ("precision", "recall", "f1"):
        for cls, value in zip(classes, card[f"per_class_{name}"]):
            metrics[f"{name}_{cls}"] = value
    log_progress(run_id, card["epochs_run"], metrics)
    c = client()
    c.log_artifact(run_id, str(model_file), "model")
    c.log_artifact(run_id, str(card_file), "model")
    c.log_dict(run_id, {"confusion_matrix": card["confusion_matrix"]}, "confusion_matrix.json")
    c.set_tag(run_id, Tag.SECONDS, str(card["train_seconds"]))


def finish(run_id: str, status: str, error: str | None = None) -> bool:
    """End a run as FINISHED, KILLED or FAILED, once: a run already ended keeps its first ending."""
    c = client()
    if c.get_run(run_id).info.status in TERMINAL:
        return False
    if error:
        c.set_tag(run_id, Tag.ERROR, error[:4000])
    c.set_terminated(run_id, status=status)
    return True


def cancel_requested(run_id: str) -> bool:
    """Whether someone asked this run to stop (the app's Cancel, or ``python -m core cancel``)."""
    run = client().get_run(run_id)
    return run.data.tags.get(Tag.CANCEL) == "1" or run.info.status in TERMINAL


def request_cancel(run_id: str) -> str:
    """Ask a run to stop: a queued run is KILLED at once; a running one stops within a batch."""
    run = _orphan_checked(get(run_id))  # no worker is left to hear a cancel of a run whose launcher died
    if run.status in TERMINAL:
        return run.status
    client().set_tag(run_id, Tag.CANCEL, "1")
    if run.status == "SCHEDULED":
        finish(run_id, "KILLED")
        return "KILLED"
    return "CANCELLING"


def delete(run_id: str) -> None:
    """Delete a run with what it left on this machine (a class's run holds a network taught by its students'
    drawings): a run still going is stopped first; its local artifacts (model, card) and any downloaded or
    browser copy are removed, and the store's record is deleted (a tracking server keeps its own copy of the
    artifacts until its ``mlflow gc``)."""
    import shutil

    from core.nets import browser

    request_cancel(run_id)
    local = _local_artifacts(run_id)
    for folder in (local, paths.cache_dir() / "runs" / run_id):
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    name = f"{registry.RUN_PREFIX}{run_id}"
    browser.onnx_path(name).unlink(missing_ok=True)
    browser.card_path(name).unlink(missing_ok=True)
    client().delete_run(run_id)
    model_spec.cache_clear()


def wait(run_id: str, timeout_s: float | None = None, poll_s: float = 1.0) -> RunInfo:
    """Block until the run has ended (or ``timeout_s`` has passed); return it."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        run = get(run_id)
        if run.status in TERMINAL or (deadline is not None and time.monotonic() > deadline):
            return run
        time.sleep(poll_s)


LAUNCHER_GONE = "its launcher stopped (the app or command that launched it ended while it ran; runs on the local " \
                "cluster end with it)"
HEARTBEAT_S = 5.0  # how often a launcher says that its runs' local cluster is alive
HEARTBEAT_STALE_S = 30.0  # a launcher silent this long is gone: six beats missed, not a busy second


def beat(run_ids: Iterable[str]) -> None:
    """The launcher says it is alive, with its local cluster and the runs' workers: the time, on each run."""
    now = f"{time.time():.1f}"
    for run_id in run_ids:
        client().set_tag(run_id, Tag.HEARTBEAT, now)


def launcher_gone(run: RunInfo, now: float | None = None) -> str | None:
    """Why an active run on a local cluster can never end by itself, or None: its launcher died, and its local
    cluster and the run's worker with it. On the launcher's machine its process id tells at once (and a living
    one is trusted over a heartbeat a busy machine delayed); from any other machine sharing the store, a
    heartbeat older than ``HEARTBEAT_STALE_S`` does. Runs of a shared cluster outlive their launcher."""
    import psutil

    who = run.tags.get(Tag.OWNER, "")
    if run.status not in ACTIVE or run.tags.get(Tag.CLUSTER) != "local":
        return None
    if who.startswith(socket.gethostname() + ":"):
        pid = int(who.rsplit(":", 1)[1])
        return LAUNCHER_GONE if pid != os.getpid() and not psutil.pid_exists(pid) else None
    if Tag.HEARTBEAT not in run.tags:
        return None  # recorded before launchers beat: not judged from here
    silent = (now or time.time()) - float(run.tags[Tag.HEARTBEAT])
    if silent <= HEARTBEAT_STALE_S:
        return None
    return (f"its launcher ({who}) stopped answering {silent:.0f} s ago (the app or command that launched it "
            "ended while it ran, or lost the store; runs on the local cluster end with it)")


def _orphan_checked(run: RunInfo) -> RunInfo:
    """``run``, marked FAILED first when its launcher has died (a check of a process id or of a time)."""
    reason = launcher_gone(run)
    if reason:
        finish(run.run_id, "FAILED", reason)
        return get(run.run_id)
    return run


def reconcile() -> list[str]:
    """Mark FAILED the runs left active by an app process (or command) that has since died: on this machine by
    its process id, on another sharing the store by its silent heartbeat (``launcher_gone``).

    With the local cluster (no ``RAY_ADDRESS``) a run's worker dies with the app
    that started it, so such a run can never end by itself. ``search`` checks the
    runs it returns the same way, so a page showing a run notices within a refresh.
    """
    found = [_info(r) for status in ACTIVE for r in client().search_runs(
        [experiment_id()], filter_string=f"attributes.status = {_quoted(status)}", max_results=5000)]
    return [r.run_id for r in found if _orphan_checked(r).status == "FAILED"]


# --- finished runs' models, for the registry --------------------------------------------------------------------


def _local_artifacts(run_id: str) -> Path | None:
    """The folder of a run's artifacts when the store keeps them on this machine (the SQLite store's
    ``mlartifacts``); None when a tracking server holds them."""
    uri = client().get_run(run_id).info.artifact_uri
    if uri.startswith("file://") or uri.startswith("/"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    return None


def model_dir(run_id: str) -> Path:
    """Where a run's model is on this machine: its local artifacts, or a downloaded copy."""
    local = _local_artifacts(run_id)
    if local is not None and (local / "model").is_dir():
        return local / "model"
    dst = paths.cache_dir() / "runs" / run_id
    if not (dst / "model").is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        client().download_artifacts(run_id, "model", str(dst))
    return dst / "model"


@cache  # a finished run never changes; runs that have not finished raise, and are not cached
def model_spec(run_id: str) -> registry.ModelSpec:
    """A finished run's model as a registry spec: named ``run:<id>`` and titled 'ConvNet, run 7 (lr 0.01)'."""
    try:
        run = get(run_id)
    except LookupError as e:
        raise registry.ModelNotFound(str(e)) from None
    if run.status != "FINISHED":
        raise registry.ModelNotFound(f"run {run.number} has no model: it is {run.state.lower()}")
    base = registry.get(run.model)
    try:
        file = model_dir(run_id) / f"{run.model}.keras"
    except Exception as e:  # noqa: BLE001 - artifacts deleted, moved or out of reach all mean: no model here
        raise registry.ModelNotFound(f"run {run.number}'s model cannot be fetched from the run store "
                                     f"({store.first_line(e)})") from None
    return registry.ModelSpec(f"{registry.RUN_PREFIX}{run_id}", run.label, base.build, base.blurb,
                              dataset=base.dataset, knobs=base.knobs, file=file, base=run.model)


registry.RESOLVERS[registry.RUN_PREFIX] = model_spec


def store_exists() -> bool:
    """False only when the default local store has never been written: no run yet, and no need to load MLflow."""
    uri = tracking_uri()
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).is_file()


def finished_models(dataset: str = "mnist") -> list[str]:
    """Registry names of the finished runs' models on ``dataset``, newest first."""
    if not store_exists():
        return []
    return [f"{registry.RUN_PREFIX}{r.run_id}" for r in search(status=["FINISHED"], dataset=dataset)
            if r.has_model and _fetchable(r.run_id)]


def _fetchable(run_id: str) -> bool:
    """Whether the run's model can be had here: a run whose artifacts are gone is not offered to a page."""
    try:
        model_spec(run_id)
        return True
    except registry.ModelNotFound:
        return False


def card(run_id: str) -> dict | None:
    """A finished run's model card (the same JSON as a shipped model's)."""
    try:
        return json.loads((model_dir(run_id) / f"{get(run_id).model}.json").read_text())
    except (OSError, ValueError, LookupError):
        return None
