"""Transfer learning to Greek letters (report 002, part C): the recipe, the shipped model, the engine, the page."""

import json
from pathlib import Path

import numpy as np
import pytest

from bench.harness import command_line
from core.data import datasets
from core.lab import runs
from core.nets import registry
from core.training import letter_transfer
from core.training.kit import Cancelled
from tests.needs import needs_data
from tests.pages import open_page

GREEK = datasets.dataset_path("greek")
needs_letters = needs_data("greek")


def test_freezing_net002_leaves_153_weights_to_learn_as_in_report_002():
    source, *rows = letter_transfer.param_table("net002")
    table = dict(zip(letter_transfer.MODES, rows))
    assert source["total"] == 21_840
    frozen = table["frozen"]
    assert frozen["trainable"] == 50 * 3 + 3
    assert frozen["non_trainable"] == 21_840 - (50 * 10 + 10)
    assert table["finetune"]["trainable"] == table["scratch"]["trainable"] == frozen["total"]


def test_a_transfer_config_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="mode must be one of"):
        letter_transfer.TransferConfig(mode="thaw")
    with pytest.raises(ValueError, match="trained on drawings"):
        letter_transfer.TransferConfig(source="cifar_resnet")
    with pytest.raises(ValueError, match="unknown model"):
        letter_transfer.TransferConfig(source="nope")
    with pytest.raises(ValueError, match="epochs"):
        letter_transfer.TransferConfig(epochs=0)


@needs_letters
def test_letters_are_read_through_the_drawing_path_into_mnist_form():
    (x_fit, y_fit), (x_test, y_test) = datasets.load_dataset("greek")
    assert x_fit.shape == (27, 28, 28) and x_test.shape == (12, 28, 28)
    assert np.bincount(y_fit).tolist() == [9, 9, 9] and np.bincount(y_test).tolist() == [4, 4, 4]
    # The training letters are dark ink on grey paper: made white on black, with MNIST's empty border.
    border = np.concatenate([x_fit[:, :2].ravel(), x_fit[:, -2:].ravel(), x_fit[:, :, :2].ravel()])
    assert border.mean() < 5 and np.median(x_fit) == 0 and x_fit.max() > 200


@needs_letters
@pytest.mark.slow
def test_frozen_keeps_the_mnist_features_and_retraining_changes_them(tmp_path):
    source = registry.load("net002")
    before = source.get_layer("conv1").get_weights()[0]
    for mode in ("frozen", "finetune"):
        config = letter_transfer.TransferConfig(source="net002", mode=mode, epochs=2, repeats=2, out_dir=str(tmp_path))
        card = letter_transfer.train_transfer(config)
        model = registry.load("greek_net002", models_dir=tmp_path)  # safe mode, as the app loads it
        conv1 = model.layers[1].get_layer("conv1").get_weights()[0]
        assert np.array_equal(conv1, before) == (mode == "frozen"), mode
        assert card["transfer_params"]["trainable"] == (153 if mode == "frozen" else 21_483)
        assert len(card["history"]["loss"]) == 2 and card["n_test"] == 12
        assert np.asarray(card["test_predictions"]).shape == (12, 3)
        assert card["data"]["sha256"] == datasets.dataset_sha256("greek")


@needs_letters
def test_a_cancelled_transfer_writes_nothing(tmp_path):
    with pytest.raises(Cancelled):
        letter_transfer.train_transfer(letter_transfer.TransferConfig(out_dir=str(tmp_path)), should_stop=lambda: True)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@needs_letters
def test_the_shipped_greek_model_reads_the_test_letters_from_the_command_line():
    files = sorted(str(p) for p in (GREEK / "test").glob("*/*.png"))
    out = command_line.cli("predict", "--model", "greek", *files, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 12 and {line["label"] for line in lines} <= {"alpha", "beta", "gamma"}
    right = sum(line["label"] == Path(line["file"]).parent.name for line in lines)
    assert right / len(lines) >= 0.95  # the target (on 12 letters: all of them); report 002 read 80%
    card = registry.card("greek")
    assert card["command"].startswith("python -m core transfer") and card["data"]["sha256"]


@needs_letters
@pytest.mark.slow
def test_a_transfer_run_on_the_engine_is_tracked_and_its_model_usable(engine_home):
    from core.lab import engine

    config = letter_transfer.TransferConfig(source="net002", mode="frozen", epochs=1, repeats=2)
    run = engine.launch(config, "transfer", varied=("mode",))
    run = runs.wait(run.run_id, timeout_s=300, poll_s=0.5)
    assert run.status == "FINISHED", run.error
    assert run.metrics["trainable_params"] == 153 and run.tags["vp.recipe"] == "transfer"
    assert "frozen" in run.label and run.params["mode"] == "frozen"
    spec = registry.get(f"run:{run.run_id}")
    assert spec.dataset == "greek"
    model = registry.load(spec.name)
    assert model.output_shape == (None, 3)
    assert [c for c in runs.curves(run.run_id)["val_accuracy"]], "the per-epoch curve is recorded"


@needs_letters
def _finished(config, accuracy: float) -> runs.RunInfo:
    """A finished run recorded without training (the page only reads results)."""
    run = runs.create(config.params() | {"dataset": config.dataset, "learning_rate": config.lr}, config.model,
                      "transfer", "local", {"vp.recipe": config.recipe, "vp.varied": "mode"})
    runs.log_progress(run.run_id, 1, {"test_accuracy": accuracy, "train_seconds": 2.0, "trainable_params": 153})
    runs.finish(run.run_id, "FINISHED")
    return run


def test_the_letters_page_shows_the_parameter_table_and_the_shipped_model(run_store):
    from core.training.backbone_transfer import BackboneConfig

    _finished(letter_transfer.TransferConfig(source="net002", mode="scratch"), 0.75)
    _finished(BackboneConfig(mode="frozen", labels_per_class=20), 0.5)  # a photo run: not the letters' table
    at = open_page("transfer")
    assert at.title[0].value == "Transfer learning: from digits to Greek letters"
    params, results = (d.value for d in at.dataframe[:2])
    assert 153 in params["trainable"].tolist()
    assert "report 002" in results["network"].tolist()
    assert any(str(v).startswith("shipped") for v in results["network"])
    assert results["recipe"].tolist().count("from scratch") == 1  # the letter run, and not the photo run
    assert all(str(n) for n in results["network"])
    assert at.info[-1].value.startswith("Draw α, β or γ")  # an empty canvas gets the hint, not an error


@needs_letters
def test_the_data_sets_page_shows_the_letters_with_their_three_classes(run_store):
    at = open_page("datasets")
    at.segmented_control(key="datasets_name").set_value("greek").run()
    assert not at.exception, at.exception
    assert "27 training images and 12 test images" in at.caption[0].value
    assert "9 training images a class" in " ".join(c.value for c in at.caption)


def test_the_letter_canvas_starts_blank_not_from_the_digit_drawn_on_the_draw_page(run_store, digit_gray):
    from tests.pages import drawing_state

    at = open_page("transfer", drawing_state(digit_gray, {"objects": [{"type": "path"}]}))  # a 7 drawn before
    assert not [m for m in at.metric if m.label == "Reading"], "the digit was read as a letter"
    assert at.info[-1].value.startswith("Draw α, β or γ")


def test_the_letter_curves_call_the_dashed_line_what_the_caption_calls_it(run_store):
    run = _finished(letter_transfer.TransferConfig(source="net002", mode="frozen"), 0.75)
    for epoch in (1, 2):
        runs.log_epoch(run.run_id, epoch, {"loss": 1.0 / epoch, "val_loss": 1.2 / epoch, "accuracy": 0.5 * epoch,
                                           "val_accuracy": 0.4 * epoch})
    at = open_page("transfer")
    (figure,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "test letters" in c.proto.spec
                 or "validation" in c.proto.spec]
    names = [t["name"] for t in figure["data"]]
    assert any(n.endswith("test letters") for n in names) and not any("validation" in n for n in names), names
    assert any("Dashed: the test letters" in c.value for c in at.caption)


def test_the_letters_table_puts_the_accuracy_first_and_says_nothing_is_none(run_store):
    """On a 390 px phone only the first columns fit: they were "network" and "recipe"; and the report's row read
    "None" where the report gives no figure."""
    at = open_page("transfer")
    results = at.dataframe[1].value
    assert list(results.columns)[0] == "test accuracy"
    report = results[results["network"] == "report 002"].iloc[0]
    assert not any(v is None or str(v) in ("None", "nan", "<NA>") for v in report.tolist()), report.tolist()


def test_recipe_titles_use_the_word_of_the_run_names_and_do_not_say_mnist(run_store):
    """The handwriting network learnt letters too ("frozen MNIST features" was wrong for it), and the run names
    say "finetune" where the recipes said "retrain everything"."""
    for mode, title in letter_transfer.MODE_TITLES.items():
        assert mode.removesuffix("ed") in title and "MNIST" not in title, (mode, title)
    at = open_page("transfer")
    at.selectbox(key="transfer_source").set_value("handwriting").run()
    assert not at.exception, at.exception
    params = at.dataframe[0].value
    assert not [m for m in params["model"] if "MNIST" in m and "letters" in m], params["model"].tolist()
    # A box a recipe, each on screen on a phone, where a multiselect's box hid "from scratch".
    assert [c.label for c in at.checkbox] == [letter_transfer.MODE_TITLES[m] for m in letter_transfer.MODES]


def test_the_curves_legend_sits_below_the_axis_titles_with_room_for_every_entry(run_store):
    picked = [_finished(letter_transfer.TransferConfig(source="net002", mode=m), 0.75) for m in ("frozen", "finetune")]
    for run in picked:
        runs.log_epoch(run.run_id, 1, {"loss": 1.0, "val_loss": 1.2, "accuracy": 0.5, "val_accuracy": 0.4})
    at = open_page("transfer")
    (figure,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "test letters" in c.proto.spec]
    layout, names = figure["layout"], [t["name"] for t in figure["data"] if t.get("showlegend", True)]
    assert layout["legend"]["yanchor"] == "top" and layout["legend"]["y"] <= -0.25
    assert layout["margin"]["b"] >= 22 * len(names)  # a row for each entry, as on a phone
    assert max(map(len, names)) <= 30, names  # short enough for one row of a 390 px screen
