"""core.lab.leaderboard: the shipped models' rows from their cards, and the lab's finished runs that kept a model."""

import json
import time

import pytest

from core.data import datasets
from core.lab import leaderboard, runs
from core.nets import registry
from tests.test_lab_pages import fake_finished_run

COLUMNS = ["name", "network", "data", "source", "test accuracy", "macro-F1", "parameters", "epochs", "training s",
           "device"]


def recorded_run(tmp_path, model: str, card: dict, dataset: str = "mnist", lab: str = "compare",
                 device: str = "CPU (test)", has_model: bool = True, status: str = "FINISHED") -> runs.RunInfo:
    """A run recorded as the engine's worker records one (mark_running, log_result, the has_model tag, finish),
    without training: the model file is a stand-in, the card is ``card`` with zero per-class scores."""
    classes = datasets.get_dataset(dataset).classes
    n = len(classes)
    card = {"per_class_precision": [0.0] * n, "per_class_recall": [0.0] * n, "per_class_f1": [0.0] * n,
            "confusion_matrix": [[0] * n for _ in range(n)]} | card
    run = runs.create({"model": model, "dataset": dataset, "epochs": card["epochs_run"]}, model, lab, "local")
    assert runs.mark_running(run.run_id, device, "test:0")
    out = tmp_path / run.run_id
    out.mkdir()
    (out / f"{model}.keras").write_bytes(b"not a real model: the leaderboard never loads it")
    (out / f"{model}.json").write_text(json.dumps(card))
    runs.log_result(run.run_id, card, out / f"{model}.keras", out / f"{model}.json", classes)
    if has_model:
        runs.client().set_tag(run.run_id, runs.Tag.HAS_MODEL, "1")
    runs.finish(run.run_id, status)
    time.sleep(0.01)  # newest first goes by start time (ms)
    return runs.get(run.run_id)


def test_shipped_rows_are_the_shipped_models_from_their_cards():
    rows = leaderboard.shipped_rows()
    shipped = {p.stem for p in registry.MODELS_DIR.glob("*.keras")} & set(registry.REGISTRY)
    assert [r["name"] for r in rows] == [n for n in registry.REGISTRY if n in shipped]  # registry order
    assert {"dnn", "convnet", "resnet", "net002", "cifar_resnet", "greek"} <= shipped
    for row in rows:
        card = registry.card(row["name"])
        assert list(row) == COLUMNS
        assert row["source"] == "shipped"
        assert row["network"] == registry.get(row["name"]).title
        assert (row["test accuracy"], row["macro-F1"]) == (card["test_accuracy"], card["macro_f1"])
        assert (row["parameters"], row["epochs"], row["training s"]) == (card["params"], card["epochs_run"],
                                                                        card["train_seconds"])
        assert row["device"] == card["device"]
        assert row["data"] == registry.get(row["name"]).dataset  # the MNIST cards say nothing: mnist
    by_name = {r["name"]: r for r in rows}
    assert by_name["net002"]["parameters"] == 21840 and by_name["net002"]["data"] == "mnist"
    assert by_name["cifar_resnet"]["data"] == "cifar10" and by_name["greek"]["data"] == "greek"
    assert all(0.85 < r["test accuracy"] <= 1.0 for r in rows)  # trained models, not chance


def test_shipped_rows_follow_the_models_folder(tmp_path, monkeypatch):
    (tmp_path / "dnn.keras").write_bytes(b"")
    (tmp_path / "dnn.json").write_text(json.dumps({"test_accuracy": 0.5, "macro_f1": 0.25, "params": 7,
                                                   "epochs_run": 3, "train_seconds": 1.5, "device": "abacus"}))
    (tmp_path / "convnet.keras").write_bytes(b"")  # a model without its card
    (tmp_path / "cifar_vgg.keras").write_bytes(b"")  # one of photos without its card: its data from its spec
    (tmp_path / "nothing.keras").write_bytes(b"")  # not a registered model
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path)
    assert leaderboard.shipped_rows() == [
        {"name": "dnn", "network": "DNN", "data": "mnist", "source": "shipped", "test accuracy": 0.5,
         "macro-F1": 0.25, "parameters": 7, "epochs": 3, "training s": 1.5, "device": "abacus"},
        {"name": "convnet", "network": "ConvNet", "data": "mnist", "source": "shipped", "test accuracy": None,
         "macro-F1": None, "parameters": None, "epochs": None, "training s": None, "device": ""},
        {"name": "cifar_vgg", "network": "CIFAR VGG", "data": "cifar10", "source": "shipped", "test accuracy": None,
         "macro-F1": None, "parameters": None, "epochs": None, "training s": None, "device": ""}]


def test_run_rows_are_the_finished_runs_that_kept_a_model_newest_first(run_store, tmp_path):
    kept = recorded_run(tmp_path, "net002", {"test_accuracy": 0.9712, "macro_f1": 0.9701, "params": 21840,
                                             "epochs_run": 2, "train_seconds": 12.5})
    no_model = fake_finished_run("net002", "compare", 0.95, epochs=1)  # finished, but kept no model
    stopped = recorded_run(tmp_path, "net002", {"test_accuracy": 0.5, "epochs_run": 1, "train_seconds": 1.0},
                           lab="search", has_model=False)  # a search trial ASHA stopped
    failed = recorded_run(tmp_path, "net002", {"test_accuracy": 0.5, "epochs_run": 1, "train_seconds": 1.0},
                          status="FAILED")
    photos = recorded_run(tmp_path, "cifar_resnet", {"test_accuracy": 0.61, "macro_f1": 0.6, "epochs_run": 4,
                                                     "train_seconds": 80.0}, dataset="cifar10", lab="cifar",
                          device="GPU: test")  # no params in its card
    mine = {r.run_id for r in (kept, no_model, stopped, failed, photos)}

    rows = [r for r in leaderboard.run_rows() if r["name"].removeprefix("run:") in mine]
    assert [r["name"] for r in rows] == [f"run:{photos.run_id}", f"run:{kept.run_id}"]
    assert rows[1] == {"name": f"run:{kept.run_id}", "network": f"Net 002, run {kept.number}",
                       "data": "mnist", "source": "lab: compare", "test accuracy": pytest.approx(0.9712),
                       "macro-F1": pytest.approx(0.9701), "parameters": 21840, "epochs": 2,
                       "training s": pytest.approx(12.5), "device": "CPU (test)"}
    assert type(rows[1]["parameters"]) is int and type(rows[1]["epochs"]) is int  # MLflow keeps floats
    assert rows[0]["network"] == f"CIFAR ResNet-9, run {photos.number}"
    assert (rows[0]["data"], rows[0]["source"], rows[0]["device"]) == ("cifar10", "lab: cifar", "GPU: test")
    assert rows[0]["parameters"] is None and rows[0]["epochs"] == 4

    mnist = [r["name"] for r in leaderboard.run_rows("mnist") if r["name"].removeprefix("run:") in mine]
    assert mnist == [f"run:{kept.run_id}"]
    cifar = [r["name"] for r in leaderboard.run_rows("cifar10") if r["name"].removeprefix("run:") in mine]
    assert cifar == [f"run:{photos.run_id}"]
