"""Automated hyperparameter search with Ray Tune, over report 002's grid space.

Reports 001 and 003 let AutoKeras pick their networks; here the student sees
the search itself: random configurations of net002 (dropout, batch size, kernel
size), trained side by side, the unpromising ones stopped early by ASHA
(asynchronous successive halving) after each epoch. Every trial is a run in
the store (lab ``search``), and the search itself is one more run that holds
the best configuration.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

from core.base import paths
from core.lab import engine, presets, runs

SPACE_WORDS = "dropout 0.3-0.7, batch size 40-150, kernel size 3/4/5 (report 002, part D)"


def _space():
    from ray import tune

    return {"dropout": tune.uniform(0.3, 0.7), "batch_size": tune.choice(list(presets.GRID_VALUES["batch_size"])),
            "kernel_size": tune.choice(list(presets.GRID_VALUES["kernel_size"]))}


def launch(trials: int, max_epochs: int, preset_name: str = "quick") -> runs.RunInfo:
    """Start a search (returns at once): the search's own run, whose trials appear as they start."""
    import ray

    from core.training.config import TrainConfig

    if not 2 <= trials <= 64 or not 1 <= max_epochs <= 30:
        raise ValueError("a search needs 2-64 trials of 1-30 epochs")
    base = TrainConfig(model="net002", **(presets.preset(preset_name) | {"epochs": max_epochs}))
    engine.connect()
    search_run = runs.create({"trials": trials, "max_epochs": max_epochs, "preset": preset_name,
                              "space": SPACE_WORDS, "scheduler": "ASHA (grace 1 epoch, halving 2)"},
                             "net002", "search", engine.cluster_kind(), {runs.Tag.KIND: "search"})
    driver = ray.remote(num_cpus=0, max_retries=0, max_calls=1)(_drive)
    engine.watch(search_run.run_id, driver.options(**engine.task_env()).remote(search_run.run_id, base.params(),
                                                                                 trials, max_epochs))
    return search_run


def _drive(search_id: str, base: dict, trials: int, max_epochs: int) -> str:
    """Runs on the cluster: Tune's driver. Ends the search's run with the best configuration found."""
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    logging.getLogger("ray.tune").setLevel(logging.WARNING)
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    if not runs.mark_running(search_id, "Ray Tune", f"{os.uname().nodename}:{os.getpid()}"):
        return "KILLED"

    total = trials

    class EndTrialRuns(tune.Callback):
        """Trials that ASHA stops never reach their own ending: record it for them. And the search's own
        progress, for its bar: trials ended, and the epochs of those still running."""

        def __init__(self):
            self.ended: set[str] = set()

        def log_progress(self, trials, latest=None):
            epochs = {t.trial_id: (t.last_result or {}).get("training_iteration", 0) for t in trials}
            if latest is not None:
                trial, result = latest
                epochs[trial.trial_id] = max(epochs.get(trial.trial_id, 0), result.get("training_iteration", 0))
            running = [e for trial_id, e in epochs.items() if trial_id not in self.ended]
            runs.log_progress(search_id, len(self.ended), {
                "progress": progress(len(self.ended), running, max_epochs, total), "trials_done": len(self.ended)})

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.log_progress(trials, (trial, result))

        def on_trial_complete(self, iteration, trials, trial, **info):
            run_id = (trial.last_result or {}).get("run_id")
            if run_id:
                epochs = (trial.last_result or {}).get("training_iteration", 0)
                if not runs.get(run_id).has_model and epochs < max_epochs:  # ASHA ended it before its last epoch
                    runs.client().set_tag(run_id, runs.Tag.STOPPED_EARLY, "1")
                runs.finish(run_id, "FINISHED")
            self.ended.add(trial.trial_id)
            self.log_progress(trials)

        def on_trial_error(self, iteration, trials, trial, **info):
            run_id = (trial.last_result or {}).get("run_id")
            if run_id:
                runs.finish(run_id, "FAILED", "the trial's worker failed")
            self.ended.add(trial.trial_id)
            self.log_progress(trials)

    class StopWhenCancelled(tune.Stopper):
        def __init__(self):
            self.checked = 0.0

        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            if time.monotonic() - self.checked < 0.5:
                return False
            self.checked = time.monotonic()
            return runs.cancel_requested(search_id)

    resources = {"cpu": 1}
    import ray

    if engine.SLOT in ray.cluster_resources():
        resources[engine.SLOT] = 1
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(_trial, base=base, search_id=search_id), resources),
        param_space=_space(),
        tune_config=tune.TuneConfig(num_samples=trials, metric="val_accuracy", mode="max",
                                    scheduler=ASHAScheduler(time_attr="training_iteration", max_t=max_epochs,
                                                            grace_period=1, reduction_factor=2,
                                                            stop_last_trials=False)),
        run_config=tune.RunConfig(storage_path=str(paths.vp_home() / "ray_results"), name=search_id,
                                  callbacks=[EndTrialRuns()], stop=StopWhenCancelled(), verbose=0),
    )
    results = tuner.fit()
    if runs.cancel_requested(search_id):
        runs.finish(search_id, "KILLED")
        return "KILLED"
    best = results.get_best_result(metric="val_accuracy", mode="max", scope="all")
    c = runs.client()
    for key, value in trial_knobs(best.config).items():  # as the trial's run recorded them
        c.set_tag(search_id, runs.Tag.BEST + key, str(value))
    c.set_tag(search_id, runs.Tag.BEST + "run_id", str(best.metrics.get("run_id", "")))
    # The trial is picked by its best epoch (scope "all"), but its ``metrics`` are its last epoch's: take the best.
    history = best.metrics_dataframe
    best_val = float(history["val_accuracy"].max()) if history is not None and "val_accuracy" in history else \
        float(best.metrics["val_accuracy"])
    runs.log_progress(search_id, trials, {"best_val_accuracy": best_val, "progress": 1.0,
                                         "trials_done": trials})
    runs.finish(search_id, "FINISHED")
    return "FINISHED"


def trial_knobs(config: dict) -> dict:
    """A sampled configuration as a run takes it: dropout to 3 decimals, batch and kernel sizes whole."""
    return {"dropout": round(float(config["dropout"]), 3), "batch_size": int(config["batch_size"]),
            "kernel_size": int(config["kernel_size"])}


def _trial(config: dict, base: dict, search_id: str) -> None:
    """One trial: a run of net002 with the sampled settings, reporting validation accuracy each epoch."""
    from ray import tune

    from core.base import device
    from core.data import datasets
    from core.training.train import TrainConfig, train

    engine.give_way()  # as every run's worker
    device.configure_threads(intra_op=1, inter_op=1)
    params = base | trial_knobs(config)
    train_config = TrainConfig(**params)
    run = runs.create(train_config.params() | {"dataset": "mnist", "learning_rate": train_config.lr}, "net002",
                      "search", engine.cluster_kind(),
                      {runs.Tag.GROUP: search_id, runs.Tag.VARIED: "dropout,batch_size,kernel_size",
                       runs.Tag.TRIAL: tune.get_context().get_trial_id()})
    runs.mark_running(run.run_id, device.device_label(), f"{os.uname().nodename}:{os.getpid()}")
    out = paths.vp_home() / "runs" / run.run_id
    train_config.out_dir = str(out)

    last: list[dict] = []  # the last epoch's report, held back until the trial is tested

    def progress(event: dict) -> None:
        if event["kind"] == "epoch":
            runs.log_epoch(run.run_id, event["epoch"], event["logs"])
            runs.log_progress(run.run_id, event["epoch"], {"progress": event["epoch"] / event["epochs"]})
            report = {"val_accuracy": event["logs"]["val_accuracy"], "run_id": run.run_id}
            if event["epoch"] < event["epochs"]:
                # ASHA may stop the trial here (Tune ends it with SystemExit; the callback above records it).
                tune.report(report)
            else:
                # ASHA has a rung at the last epoch too: a trial below its cutoff there would be stopped after
                # training every epoch, before its test, and shown "stopped early" without a test score.
                last.append(report)

    card = train(train_config, progress)
    runs.log_result(run.run_id, card, out / "net002.keras", out / "net002.json", datasets.get_dataset("mnist").classes)
    runs.client().set_tag(run.run_id, runs.Tag.HAS_MODEL, "1")
    runs.client().set_tag(run.run_id, runs.Tag.STOPPED_EARLY, "0")
    if last:
        tune.report(last[-1])


def trials(search_id: str) -> list[runs.RunInfo]:
    """The trials of a search, newest first."""
    return runs.search(lab="search", group=search_id)


def progress(finished: int, running_epochs: Iterable[int], max_epochs: int, total: int) -> float:
    """How far a search is, from 0 to 1: its ended trials count whole, a running one by its epochs so far.

    A trial ASHA stops early counts as done, so the bar can jump; it never goes back.
    """
    partial = sum(min(epochs, max_epochs) / max_epochs for epochs in running_epochs)
    return min(1.0, (finished + partial) / total) if total else 1.0


def progress_words(run: runs.RunInfo) -> str:
    """A search's progress bar text, 'search 5: 3 of 8 trials done, 44%': its run has no epochs of its own."""
    total = run.params.get("trials", "?")
    done = total if run.status == "FINISHED" else int(run.metrics.get("trials_done", 0))
    return f"search {run.number}: {done} of {total} trials done, {run.progress:.0%}"


def stopped_words(stopped: int, total: int) -> str:
    """How many of a search's trials ASHA stopped early, in words: '3 of them stopped early'."""
    if total == 1:
        return "it stopped early" if stopped else "it was not stopped early"
    if stopped == 0:
        return "none of them stopped early"
    if stopped == total:
        return "all of them stopped early"
    if 2 * stopped == total:
        return "half of them stopped early"
    if 2 * stopped > total:
        return f"most of them ({stopped} of {total}) stopped early"
    return f"{stopped} of them stopped early"


def best_trial(search_run: runs.RunInfo, trials: list[runs.RunInfo]) -> runs.RunInfo | None:
    """The trial the search picked (its best epoch's validation accuracy), among ``trials``."""
    return next((t for t in trials if t.run_id == search_run.best.get("run_id")), None)


def _best_val(run: runs.RunInfo) -> float | None:
    values = [v for _, v in runs.curves(run.run_id, ("val_accuracy",))["val_accuracy"]]
    return max(values) if values else run.metrics.get("val_accuracy")


def against_grid(search_run: runs.RunInfo, trials: list[runs.RunInfo], grid_runs: list[runs.RunInfo]) -> str | None:
    """The search's best trial against the grid's best run, like with like, and who won, in one sentence.

    On the test digits when the best trial was tested (it ran to its end); else on the validation digits, each
    run by its best epoch, as the search ranks its trials. None when there is nothing to compare.
    """
    best = best_trial(search_run, trials)
    if best is None or not grid_runs:
        return None
    if best.metrics.get("test_accuracy") is not None:
        where, ours = "test", best.metrics["test_accuracy"]
        scored = [(r.metrics["test_accuracy"], r) for r in grid_runs if r.metrics.get("test_accuracy") is not None]
    else:
        where, ours = "validation", _best_val(best)
        scored = [(v, r) for r in grid_runs if (v := _best_val(r)) is not None]
    if ours is None or not scored:
        return None
    theirs, top = max(scored, key=lambda item: item[0])
    knobs = trial_knobs(top.params)
    gap = abs(ours - theirs) * 100
    winner = "search" if ours > theirs else "grid"
    verdict = "a tie" if gap < 0.005 else f"the {winner} wins, by {gap:.2f} point{'' if round(gap, 2) == 1 else 's'}"
    return (f"On the {where} digits, the search's best trial (run {best.number}) read {ours:.2%} and the grid's "
            f"best (run {top.number}: dropout {knobs['dropout']:g}, batch size {knobs['batch_size']}, kernel size "
            f"{knobs['kernel_size']}, of {len(grid_runs)} run{'s' if len(grid_runs) > 1 else ''}) {theirs:.2%}: "
            f"{verdict}.")
