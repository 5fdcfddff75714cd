"""core.lab.search: the search space, what each trial trains and records, and how the search keeps its best trial.

Most tests drive the search's own code without Ray: a trial is called as Tune would call it (with Tune's
report and context and the training replaced), and the search's driver runs against a stand-in Tuner that
plays out trials through the driver's own callbacks and stopper. A real search, on Ray, is run by
tests/test_lab_pages.py (slow).
"""

import os
import time
from types import SimpleNamespace

import pandas as pd
import pytest
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from core.base import device, paths
from core.lab import engine, presets, runs, search
from core.training.train import TrainConfig

SPACE = {"dropout": (0.3, 0.7), "batch_size": [40, 80, 100, 120, 150], "kernel_size": [3, 4, 5]}  # report 002


def test_the_space_is_report_002_s_grid():
    space = search._space()
    assert set(space) == set(SPACE)
    assert (space["dropout"].lower, space["dropout"].upper) == SPACE["dropout"]
    assert list(space["batch_size"].categories) == SPACE["batch_size"] == list(presets.GRID_VALUES["batch_size"])
    assert list(space["kernel_size"].categories) == SPACE["kernel_size"] == list(presets.GRID_VALUES["kernel_size"])
    for _ in range(50):
        assert 0.3 <= space["dropout"].sample() <= 0.7
        assert space["batch_size"].sample() in SPACE["batch_size"]
        assert space["kernel_size"].sample() in SPACE["kernel_size"]
    # What the page says about it
    assert search.SPACE_WORDS.startswith("dropout 0.3-0.7, batch size 40-150, kernel size 3/4/5")


@pytest.mark.parametrize("trials, max_epochs", [(1, 2), (65, 2), (4, 0), (4, 31)])
def test_a_search_too_small_or_too_big_is_refused_before_anything_starts(run_store, monkeypatch, trials,
                                                                           max_epochs):
    monkeypatch.setattr(engine, "connect", lambda: pytest.fail("a Ray cluster was joined for a refused search"))
    before = {r.run_id for r in runs.search(max_results=10_000)}
    with pytest.raises(ValueError, match="a search needs 2-64 trials of 1-30 epochs"):
        search.launch(trials, max_epochs)
    assert {r.run_id for r in runs.search(max_results=10_000)} == before


def search_run(trials: int = 3, max_epochs: int = 2) -> runs.RunInfo:
    """A search's own run, queued, as ``search.launch`` records it."""
    return runs.create({"trials": trials, "max_epochs": max_epochs, "preset": "quick", "space": search.SPACE_WORDS},
                       "net002", "search", "local", {runs.Tag.KIND: "search"})


def base_params(epochs: int = 2) -> dict:
    return TrainConfig(model="net002", **presets.preset("quick") | {"epochs": epochs}).params()


@pytest.fixture
def as_tune_would(monkeypatch):
    """Tune's report and trial context for a trial called in this process; the worker's niceness and thread
    caps left alone (they would stay on this test process)."""
    reports = []
    monkeypatch.setattr(tune, "report", lambda metrics: reports.append(dict(metrics)))
    monkeypatch.setattr(tune, "get_context", lambda: SimpleNamespace(get_trial_id=lambda: "abc_00001"))
    monkeypatch.setattr(engine, "give_way", lambda: None)
    monkeypatch.setattr(device, "configure_threads", lambda **_: True)
    return reports


def fake_train(trained: list, val_accuracy=(0.81, 0.88)):
    """In place of core.training.train.train: reports an epoch per value, writes the model and card files."""

    def train(config, progress=None, cancelled=None):
        trained.append(config)
        for epoch, acc in enumerate(val_accuracy, start=1):
            progress({"kind": "epoch", "epoch": epoch, "epochs": config.epochs,
                      "logs": {"loss": 1.0 / epoch, "val_loss": 1.1 / epoch, "accuracy": acc, "val_accuracy": acc}})
        card = {"test_accuracy": 0.9, "macro_f1": 0.89, "params": 1234, "epochs_run": len(val_accuracy),
                "train_seconds": 4.5, "per_class_precision": [0.9] * 10, "per_class_recall": [0.9] * 10,
                "per_class_f1": [0.9] * 10, "confusion_matrix": [[0] * 10 for _ in range(10)]}
        os.makedirs(config.out_dir, exist_ok=True)
        for suffix in (".keras", ".json"):
            with open(os.path.join(config.out_dir, config.model + suffix), "w") as f:
                f.write("{}")
        return card

    return train


def test_a_trial_trains_net002_with_its_sampled_settings_and_records_a_run(run_store, as_tune_would, monkeypatch):
    import core.training.train

    trained = []
    monkeypatch.setattr(core.training.train, "train", fake_train(trained))
    parent = search_run()
    sampled = {"dropout": 0.41234, "batch_size": 100, "kernel_size": 4}
    search._trial(sampled, base=base_params(), search_id=parent.run_id)

    [config] = trained
    assert (config.model, config.dropout, config.batch_size, config.kernel_size) == ("net002", 0.412, 100, 4)
    assert (config.epochs, config.limit) == (2, presets.PRESETS["quick"]["limit"])  # the rest from the base
    [trial] = search.trials(parent.run_id)
    assert config.out_dir == str(paths.vp_home() / "runs" / trial.run_id)
    assert (trial.model, trial.lab, trial.dataset, trial.status) == ("net002", "search", "mnist", "RUNNING")
    assert (trial.params["dropout"], trial.params["batch_size"], trial.params["kernel_size"]) == ("0.412", "100", "4")
    assert trial.tags[runs.Tag.TRIAL] == "abc_00001"
    assert trial.varied == ("dropout", "batch_size", "kernel_size")
    assert "dropout 0.412" in trial.label and "kernel 4" in trial.label and "batch 100" in trial.label
    # Each epoch is reported to Tune (for ASHA) with the run it belongs to, and recorded as the run's curve.
    assert as_tune_would == [{"val_accuracy": 0.81, "run_id": trial.run_id},
                             {"val_accuracy": 0.88, "run_id": trial.run_id}]
    assert runs.curves(trial.run_id, ("val_accuracy",))["val_accuracy"] == [(1, 0.81), (2, 0.88)]
    # A trial that ran to its end kept its model and was not stopped early; the search's callback ends it.
    assert trial.has_model and trial.stopped_early is False
    assert trial.metrics["test_accuracy"] == 0.9 and trial.metrics["progress"] == 1.0
    assert search.trials(parent.run_id) and search.trials("another search") == []


def test_a_trial_asha_stops_at_its_last_epoch_is_tested_first_and_not_called_stopped_early(run_store, as_tune_would,
                                                                                              monkeypatch):
    """ASHA has a rung at the last epoch (max_t) too, and stops a trial below its cutoff there. Reported from inside
    training, that stop came after every epoch was logged but before the test: the page showed a trial that ran
    all its epochs as "stopped early: yes", with no test score."""
    import core.training.train

    def report(metrics):
        as_tune_would.append(dict(metrics))
        if len(as_tune_would) == 2:  # the second (last) epoch's report, below the cutoff at ASHA's last rung
            raise SystemExit("stopped by ASHA")

    monkeypatch.setattr(tune, "report", report)
    monkeypatch.setattr(core.training.train, "train", fake_train([]))
    parent = search_run(max_epochs=2)
    with pytest.raises(SystemExit):
        search._trial({"dropout": 0.5, "batch_size": 40, "kernel_size": 5}, base=base_params(2),
                      search_id=parent.run_id)
    [trial] = search.trials(parent.run_id)
    assert len(runs.curves(trial.run_id, ("val_accuracy",))["val_accuracy"]) == 2
    assert trial.metrics.get("test_accuracy") == 0.9 and trial.has_model and trial.stopped_early is False
    assert [r["val_accuracy"] for r in as_tune_would] == [0.81, 0.88]  # ASHA still gets every epoch


class StandInTuner:
    """Records what the driver asks of Tune; ``fit`` plays ``script(tuner)`` and returns its results."""

    made: list = []
    script = None

    def __init__(self, trainable, param_space, tune_config, run_config):
        self.trainable, self.param_space, self.tune_config, self.run_config = (trainable, param_space, tune_config,
                                                                               run_config)
        StandInTuner.made.append(self)

    def fit(self):
        return StandInTuner.script(self)

    def callback(self):
        [cb] = self.run_config.callbacks
        return cb


class Results:
    def __init__(self, best):
        self.best, self.asked = best, None

    def get_best_result(self, metric, mode, scope):
        self.asked = (metric, mode, scope)
        return self.best


@pytest.fixture
def stand_in_tune(monkeypatch):
    import ray

    StandInTuner.made = []
    monkeypatch.setattr(tune, "Tuner", StandInTuner)
    monkeypatch.setattr(tune, "with_parameters", lambda fn, **kw: ("with_parameters", fn, kw))
    monkeypatch.setattr(tune, "with_resources", lambda trainable, resources: (trainable, resources))
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 2.0, engine.SLOT: 2.0})
    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "1")  # the driver sets it; restored afterwards
    return StandInTuner


def trial_run(parent: runs.RunInfo, has_model: bool) -> runs.RunInfo:
    run = runs.create(base_params(), "net002", "search", "local", {runs.Tag.GROUP: parent.run_id})
    runs.mark_running(run.run_id, "CPU (test)", "test:0")
    if has_model:
        runs.client().set_tag(run.run_id, runs.Tag.HAS_MODEL, "1")
        runs.client().set_tag(run.run_id, runs.Tag.STOPPED_EARLY, "0")
    return run


def test_the_driver_records_the_best_trial_on_the_search_s_run(run_store, stand_in_tune):
    parent = search_run(trials=3, max_epochs=4)
    played = {}

    def script(tuner):
        # Three trials: one ran to its end, one ASHA stopped, one whose worker failed; one never reported.
        kept, stopped, broken = trial_run(parent, True), trial_run(parent, False), trial_run(parent, False)
        cb = tuner.callback()
        def trial(name, run):
            return SimpleNamespace(trial_id=name, last_result={"run_id": run.run_id} if run else None)

        cb.on_trial_complete(iteration=4, trials=[], trial=trial("t1", kept))
        cb.on_trial_complete(iteration=1, trials=[], trial=trial("t2", stopped))
        cb.on_trial_error(iteration=1, trials=[], trial=trial("t3", broken))
        cb.on_trial_error(iteration=0, trials=[], trial=trial("t4", None))
        assert tuner.run_config.stop.stop_all() is False  # not cancelled
        played.update(kept=kept, stopped=stopped, broken=broken)
        # Tune samples dropout as a float of many digits; the trial's run keeps 3 (search.trial_knobs).
        # The best trial's metrics are its last epoch's (0.95), its best epoch was the second (0.975).
        history = pd.DataFrame({"val_accuracy": [0.9, 0.975, 0.95]})
        played["results"] = Results(SimpleNamespace(config={"dropout": 0.35123456, "batch_size": 80, "kernel_size": 3},
                                                    metrics={"val_accuracy": 0.95, "run_id": kept.run_id},
                                                    metrics_dataframe=history))
        return played["results"]

    stand_in_tune.script = script
    assert search._drive(parent.run_id, base_params(4), 3, 4) == "FINISHED"

    [tuner] = stand_in_tune.made
    (kind, fn, kw), resources = tuner.trainable
    assert (kind, fn, kw) == ("with_parameters", search._trial, {"base": base_params(4), "search_id": parent.run_id})
    assert resources == {"cpu": 1, engine.SLOT: 1}  # one of the cluster's run slots per trial
    assert set(tuner.param_space) == set(SPACE)
    assert (tuner.tune_config.num_samples, tuner.tune_config.metric, tuner.tune_config.mode) == (3, "val_accuracy",
                                                                                                  "max")
    assert isinstance(tuner.tune_config.scheduler, ASHAScheduler)
    assert tuner.run_config.name == parent.run_id
    assert tuner.run_config.storage_path == str(paths.vp_home() / "ray_results")
    assert played["results"].asked == ("val_accuracy", "max", "all")  # a trial counts by its best epoch

    done = runs.get(parent.run_id)
    assert done.status == "FINISHED" and done.kind == "search"
    assert done.best == {"dropout": "0.351", "batch_size": "80", "kernel_size": "3", "run_id": played["kept"].run_id}
    assert done.metrics["best_val_accuracy"] == 0.975 and done.metrics["progress"] == 1.0
    kept, stopped, broken = (runs.get(played[k].run_id) for k in ("kept", "stopped", "broken"))
    assert (kept.status, kept.stopped_early, kept.has_model) == ("FINISHED", False, True)
    assert (stopped.status, stopped.stopped_early, stopped.has_model) == ("FINISHED", True, False)
    assert broken.status == "FAILED" and broken.error == "the trial's worker failed"
    assert {t.run_id for t in search.trials(parent.run_id)} == {kept.run_id, stopped.run_id, broken.run_id}


def test_a_cancelled_search_stops_its_trials_and_records_no_best(run_store, stand_in_tune):
    parent = search_run()

    def script(tuner):
        assert tuner.run_config.stop.stop_all() is False
        assert runs.request_cancel(parent.run_id) == "CANCELLING"  # the search runs: it is asked to stop
        time.sleep(0.6)  # the stopper looks at the store at most every 0.5 s
        assert tuner.run_config.stop.stop_all() is True  # Tune then stops every trial
        return Results(None)

    stand_in_tune.script = script
    assert search._drive(parent.run_id, base_params(), 3, 2) == "KILLED"
    done = runs.get(parent.run_id)
    assert done.status == "KILLED" and done.best == {} and "best_val_accuracy" not in done.metrics


def test_a_search_cancelled_while_queued_never_starts_tune(run_store, stand_in_tune):
    parent = search_run()
    assert runs.request_cancel(parent.run_id) == "KILLED"
    assert search._drive(parent.run_id, base_params(), 3, 2) == "KILLED"
    assert stand_in_tune.made == []
    assert runs.get(parent.run_id).status == "KILLED"

