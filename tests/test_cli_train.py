import json

import numpy as np
import pytest
from PIL import Image

from bench.harness import command_line
from core.images import strokes
from core.nets import registry


def run_cli(*args):
    return command_line.cli(*args, timeout=300)


@pytest.fixture
def digit_files(tmp_path, unipen):
    """Two real drawn digits as PNG files, dark ink on white (as a scan would be)."""
    paths = []
    for label in (3, 8):
        rec = next(r for r in unipen if r["label"] == label)
        img = 255 - strokes.render(strokes.canvas_paths(rec), width=20)
        path = tmp_path / f"digit{label}.png"
        Image.fromarray(img).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.slow
def test_predict_prints_one_json_line_per_file_with_the_best_model(digit_files):
    out = run_cli("predict", *digit_files)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["file"] for line in lines] == digit_files
    for line, label in zip(lines, (3, 8)):
        assert line["model"] == registry.best_model()
        assert len(line["probs"]) == 10 and abs(sum(line["probs"]) - 1) < 1e-3
        assert line["label"] == int(np.argmax(line["probs"])) == label


@pytest.mark.slow
def test_predict_bad_file_exits_1_and_still_reads_the_others(digit_files, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    out = run_cli("predict", "--model", "dnn", str(bad), digit_files[0], str(tmp_path / "missing.png"))
    assert out.returncode == 1
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["file"] == digit_files[0] and lines[0]["model"] == "dnn"
    assert "notes.txt" in out.stderr and "not an image" in out.stderr and "missing.png" in out.stderr


@pytest.mark.slow
def test_predict_reports_a_picture_of_specks_and_reads_the_next_file(digit_files, tmp_path):
    specks = np.zeros((100, 100), np.uint8)
    specks[5:95:7, 5:95:7] = 255
    path = tmp_path / "specks.png"
    Image.fromarray(specks).save(path)
    out = run_cli("predict", "--model", "dnn", str(path), digit_files[0])
    assert out.returncode == 1
    assert "specks.png: no digit found" in out.stderr
    assert [json.loads(line)["file"] for line in out.stdout.splitlines()] == [digit_files[0]]


def test_predict_unknown_model_is_refused():
    out = run_cli("predict", "--model", "vgg", "x.png")
    assert out.returncode == 2 and "invalid choice" in out.stderr


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--limit", "0"), ("--batch-size", "-1"),
                                         ("--epochs", "ten")])
def test_train_refuses_bad_numbers_with_a_usage_message(tmp_path, flag, value):
    out = run_cli("train", "--model", "dnn", flag, value, "--out", str(tmp_path))
    assert out.returncode == 2 and f"argument {flag}" in out.stderr and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_train_config_refuses_impossible_runs():
    from core.training.train import TrainConfig

    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(model="dnn", epochs=0)
    with pytest.raises(ValueError, match="limit"):
        TrainConfig(model="dnn", limit=0)


@pytest.mark.slow
def test_train_on_a_small_slice_writes_model_and_card(tmp_path):
    events = []
    from core.training.train import TrainConfig, train

    card = train(TrainConfig(model="net002", epochs=2, limit=3000, learning_rate=3e-3, polish_epochs=1,
                             out_dir=str(tmp_path)), events.append)
    assert (tmp_path / "net002.keras").is_file() and (tmp_path / "net002.json").is_file()
    saved = json.loads((tmp_path / "net002.json").read_text())
    assert saved == card
    assert card["params"] == 21_840 and card["epochs_run"] == 3 and card["polish_from_epoch"] == 3
    assert 0.5 < card["test_accuracy"] <= 1 and 0 < card["macro_f1"] <= 1
    assert len(card["data"]["sha256"]) == 64 and card["train_seconds"] > 0
    assert [e["epoch"] for e in events if e["kind"] == "epoch"] == [1, 2, 3]  # two augmented, one polish
    assert card["history"]["learning_rate"][-1] == 5e-5 and len(card["history"]["val_accuracy"]) == 3
    assert events[-1]["kind"] == "done"
    loaded = registry.load("net002", tmp_path)
    assert loaded.count_params() == 21_840


@pytest.mark.slow
def test_cancelled_training_writes_nothing(tmp_path):
    from core.training.kit import Cancelled
    from core.training.train import TrainConfig, train

    calls = []

    def stop_after_a_few() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        train(TrainConfig(model="dnn", epochs=3, limit=3000, out_dir=str(tmp_path)), should_stop=stop_after_a_few)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_train_cli_runs_and_prints_the_card(tmp_path):
    out = run_cli("train", "--model", "dnn", "--epochs", "1", "--polish-epochs", "0", "--limit", "1000",
                  "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["model"] == "dnn" and summary["epochs_run"] == 1
    assert "epoch 1/1 " in out.stdout  # live progress, one line per epoch
    card = json.loads((tmp_path / "dnn.json").read_text())
    assert "core train --model dnn" in card["command"]


@pytest.mark.slow
def test_training_on_a_gpu_uses_mixed_precision_and_restores_the_policy(tmp_path, monkeypatch):
    """The GPU path, run on the CPU: the same code with the mixed_float16 policy a GPU gets."""
    import keras

    from core.base import device
    from core.training.train import TrainConfig, train

    policies = set()
    monkeypatch.setattr(device, "gpu_names", lambda: ["Pretend GPU"])
    card = train(TrainConfig(model="net002", epochs=1, limit=600, polish_epochs=0, out_dir=str(tmp_path)),
                 lambda event: policies.add(keras.mixed_precision.global_policy().name))  # called during fit
    assert "mixed_float16" in policies
    assert card["device"] == "GPU: Pretend GPU" and 0 < card["test_accuracy"] <= 1
    assert keras.mixed_precision.global_policy().name == "float32"
    assert registry.load("net002", tmp_path).count_params() == 21_840


@pytest.mark.slow
def test_a_stopped_training_resumes_from_its_last_epoch(tmp_path):
    """What a stopped session does to a long run: it is killed mid-way; started again, it goes on from its backup."""
    from core.training.kit import Cancelled
    from core.training.train import TrainConfig, train

    config = dict(model="net002", epochs=3, limit=600, polish_epochs=0, augment=False, writing_styles=False,
                  out_dir=str(tmp_path / "out"), checkpoint_dir=str(tmp_path / "ck"))
    epochs_done = []

    def stop_in_epoch_2(event):
        if event["kind"] == "epoch":
            epochs_done.append(event["epoch"])

    with pytest.raises(Cancelled):
        train(TrainConfig(**config), stop_in_epoch_2, should_stop=lambda: len(epochs_done) >= 1)
    assert epochs_done == [1] and not (tmp_path / "out").exists()
    events = []
    card = train(TrainConfig(**config), events.append)
    assert [e["epoch"] for e in events if e["kind"] == "resumed"] == [1]
    assert [e["epoch"] for e in events if e["kind"] == "epoch"] == [2, 3]  # epoch 1 is not trained again
    assert card["epochs_run"] == 3 and card["resumed_at_epoch"] == 1
    assert len(card["history"]["loss"]) == 3 and card["train_seconds"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("model, epochs", [("net002", 1), ("convnet", 2)])
def test_a_cancel_at_an_epochs_last_batch_does_not_wait_for_its_validation_or_test(tmp_path, model, epochs):
    """A cancel that comes with an epoch's last batch stops the run in that epoch's validation (the ConvNet's batch
    norm settling first), or before the test after the last epoch: before, the first ran on into the next epoch
    (a quick ResNet for 53 s) and the second FINISHED as if never cancelled."""
    from core.training.kit import Cancelled
    from core.training.train import TrainConfig, train

    asked = []

    def cancel_at_the_last_batch(event):
        if event["kind"] == "batch" and event["batch"] == event["batches"]:
            asked.append(event["epoch"])

    config = TrainConfig(model=model, epochs=epochs, limit=600, polish_epochs=0, augment=False, writing_styles=False,
                         out_dir=str(tmp_path))
    with pytest.raises(Cancelled, match="while validating epoch 1|batch norm settled|while testing|before its test"):
        train(config, cancel_at_the_last_batch, should_stop=lambda: bool(asked))
    assert asked[:1] == [0] and list(tmp_path.iterdir()) == []
