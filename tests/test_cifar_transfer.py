"""Backbones re-used for new photos: CIFAR-10 cut in two, the three recipes, ImageNet offline, the page."""

import numpy as np
import pytest

from core.data import datasets
from core.lab import engine
from core.nets import backbones, registry
from core.training import backbone_transfer
from tests.needs import needs_data
from tests.pages import open_page

needs_cifar = needs_data("cifar10")


@pytest.mark.slow
@needs_cifar
def test_cifar10_is_cut_into_two_halves_that_share_no_class():
    (xa, ya), (xa_test, ya_test) = datasets.load_dataset("cifar5_source")
    (xb, yb), _ = datasets.load_dataset("cifar5_target")
    assert xa.shape == xb.shape == (25_000, 32, 32, 3) and xa_test.shape == (5_000, 32, 32, 3)
    assert np.bincount(ya).tolist() == np.bincount(yb).tolist() == [5000] * 5
    (x, y), _ = datasets.load_dataset("cifar10")
    dogs = x[y == datasets.get_dataset("cifar10").classes.index("dog")]
    assert np.array_equal(xb[yb == 0], dogs)  # label 0 of the target half is the dog
    assert not set(datasets.get_dataset("cifar5_source").classes) & set(datasets.get_dataset("cifar5_target").classes)


def test_the_labelled_subset_has_n_per_class_and_is_the_same_for_every_recipe():
    y = np.repeat(np.arange(5), 50)
    x = np.arange(len(y))
    xs, ys = backbone_transfer.labelled_subset(x, y, 20, seed=3)
    assert np.bincount(ys).tolist() == [20] * 5
    assert np.array_equal(xs, backbone_transfer.labelled_subset(x, y, 20, seed=3)[0])
    assert not np.array_equal(xs, backbone_transfer.labelled_subset(x, y, 20, seed=4)[0])


def test_a_backbone_config_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="unknown backbone"):
        backbone_transfer.BackboneConfig(backbone="AlexNet")
    with pytest.raises(ValueError, match="5,000 training photos per class"):
        backbone_transfer.BackboneConfig(labels_per_class=6000)
    with pytest.raises(ValueError, match="from scratch"):
        backbone_transfer.BackboneConfig(backbone="MobileNetV2", mode="scratch")
    with pytest.raises(ValueError, match="head must be"):
        backbone_transfer.BackboneConfig(head="huge")


def test_the_engine_dispatches_the_backbone_recipe():
    config, fn = engine._recipe("backbone", backbone_transfer.BackboneConfig(mode="finetune").params())
    assert isinstance(config, backbone_transfer.BackboneConfig) and config.mode == "finetune"
    assert fn is backbone_transfer.train_backbone


@needs_cifar
@pytest.mark.slow
def test_the_three_recipes_run_and_freezing_keeps_the_backbone(tmp_path):
    """On the shipped CIFAR-5 backbone, the one the Backbones page offers."""
    source = registry.load("cifar5_resnet")
    conv = source.get_layer("stage3_conv").get_weights()[0]
    bn_mean = source.get_layer("res3_b_bn").get_weights()[2]
    cards = {}
    for mode in backbone_transfer.MODES:
        config = backbone_transfer.BackboneConfig(mode=mode, labels_per_class=20, epochs=2, batch_size=32,
                                               out_dir=str(tmp_path / mode))
        cards[mode] = backbone_transfer.train_backbone(config)
        model = registry.load("cifar5_transfer", models_dir=tmp_path / mode)  # safe mode, as pages load it
        base = model.layers[1]
        kept = np.array_equal(base.get_layer("stage3_conv").get_weights()[0], conv)
        assert kept == (mode == "frozen"), mode
        if mode == "finetune":  # fine-tuned, but batch norm kept its statistics
            assert np.array_equal(base.get_layer("res3_b_bn").get_weights()[2], bn_mean)
        assert cards[mode]["data"]["n_train"] == 100 and cards[mode]["n_test"] == 5000
    frozen = cards["frozen"]["transfer_params"]
    assert frozen["trainable"] == 128 * 5 + 5  # the new head alone: 128 features x 5 classes + 5 biases
    assert cards["scratch"]["transfer_params"]["trainable"] > 100_000


@needs_cifar
@pytest.mark.slow
def test_frozen_features_are_computed_once(monkeypatch, tmp_path):
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))  # an empty feature cache
    calls = []
    real = backbone_transfer._own_extractor
    monkeypatch.setattr(backbone_transfer, "_own_extractor", lambda name: calls.append(name) or real(name))
    config = backbone_transfer.BackboneConfig(mode="frozen", labels_per_class=20, epochs=1, out_dir=str(tmp_path))
    backbone_transfer.train_backbone(config)
    assert calls == ["cifar5_resnet"] * 2  # the labelled photos' features, and the test photos'
    backbone_transfer.train_backbone(config)
    assert len(calls) == 2  # the second run reads both from the disk cache


@needs_cifar
@pytest.mark.slow
def test_an_imagenet_backbone_with_random_weights_is_the_offline_control(tmp_path):
    config = backbone_transfer.BackboneConfig(backbone="MobileNetV2-0.35", weights="random", mode="frozen",
                                           labels_per_class=20, epochs=1, out_dir=str(tmp_path))
    card = backbone_transfer.train_backbone(config)
    assert card["transfer_params"]["trainable"] < card["transfer_params"]["non_trainable"]
    assert 0.0 <= card["test_accuracy"] <= 1.0 and card["n_test"] == 5000


@pytest.mark.slow
@needs_cifar
def test_missing_imagenet_weights_fail_the_run_with_words_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    config = backbone_transfer.BackboneConfig(backbone="MobileNet-0.25", weights="imagenet", mode="frozen",
                                           labels_per_class=20, epochs=1, allow_download=False,
                                           out_dir=str(tmp_path))
    with pytest.raises(backbones.WeightsUnavailable, match="not on this machine"):
        backbone_transfer.train_backbone(config)
    assert "random weights" in backbones.missing_weights_message("MobileNet-0.25", 32)


@pytest.mark.slow
def test_the_backbones_page_offers_imagenet_offline_with_a_plain_message(run_store, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    uploaded = datasets.add_uploaded_dataset("colours", photo_zip(per_class=6))
    at = open_page("backbones")
    at.selectbox(key="bb_backbone").set_value("MobileNetV2").run()
    assert not at.exception, at.exception
    assert at.radio(key="bb_weights").value == "random"  # what works offline is offered first
    assert any("not on this machine" in i.value for i in at.info)
    assert at.multiselect(key="bb_modes").options == ["frozen backbone, new head", "fine-tuned"]
    photos = at.selectbox(key="bb_target")
    assert photos.options[1].startswith("colours (uploaded)")  # an uploaded zip is a target too
    photos.set_value(uploaded).run()
    assert not at.exception, at.exception
    assert any(b.label.startswith("Train") and not b.disabled for b in at.button)


def photo_zip(per_class: int = 15) -> bytes:
    """A zip of two classes of photos anyone can tell apart: reddish and bluish pictures, in varied sizes."""
    import io
    import zipfile

    from PIL import Image

    rng = np.random.default_rng(0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, channel in (("red things", 0), ("blue things", 2)):
            for i in range(per_class):
                size = int(rng.integers(40, 90))
                pixels = rng.integers(0, 90, (size, size, 3)).astype(np.uint8)
                pixels[..., channel] = rng.integers(170, 255, (size, size))
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, "PNG")
                z.writestr(f"mine/{name}/{i}.png", buffer.getvalue())
    return out.getvalue()


@pytest.mark.slow
def test_an_uploaded_zip_of_photos_is_the_target_of_the_backbone_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    name = datasets.add_uploaded_dataset("my colours", photo_zip())
    assert name == "upload:my_colours" and datasets.uploaded_datasets() == [name]
    (x, y), (x_test, y_test) = datasets.load_dataset(name)
    assert x.shape[1:] == (32, 32, 3) and np.bincount(y).tolist() == [12, 12] and len(x_test) == 6
    with pytest.raises(ValueError, match="uploaded data set"):
        backbone_transfer.BackboneConfig(target="upload:nothing")
    config = backbone_transfer.BackboneConfig(target=name, mode="frozen", labels_per_class=100, epochs=10,
                                           out_dir=str(tmp_path / "out"))
    card = backbone_transfer.train_backbone(config)
    assert card["classes"] == ["blue things", "red things"] and card["data"]["n_train"] == 24
    assert card["test_accuracy"] >= 5 / 6


def test_the_backbones_page_defaults_to_one_comparison_a_classroom_cpu_can_run(run_store):
    at = open_page("backbones")
    assert at.selectbox(key="bb_backbone").value == "cifar5_resnet"
    assert at.multiselect(key="bb_modes").value == ["frozen", "scratch"]  # not all three recipes
    assert at.multiselect(key="bb_labels").value == [20]  # not 20, 100 and 500 labels per class
    assert any(b.label == "Train 2 run(s)" for b in at.button)
    why = " ".join(c.value for c in at.caption)
    assert "two runs" in why and "20 labelled photos per class" in why


def test_the_backbones_results_name_the_backbone_and_read_accuracy_from_0_to_100_percent(run_store):
    import json

    from core.lab import runs

    config = backbone_transfer.BackboneConfig(mode="frozen", labels_per_class=100)
    run = runs.create(config.params() | {"dataset": config.dataset, "learning_rate": config.lr}, config.model,
                      "transfer", "local", {runs.Tag.RECIPE: config.recipe, runs.Tag.VARIED: "mode,labels_per_class"})
    runs.log_progress(run.run_id, 1, {"test_accuracy": 0.72, "train_seconds": 3.0, "trainable_params": 1285})
    runs.finish(run.run_id, "FINISHED")
    at = open_page("backbones")
    table = at.dataframe[0].value
    assert set(table["backbone"]) == {registry.get("cifar5_resnet").title}  # not the key cifar5_resnet
    (figure,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert figure["layout"]["yaxis"]["range"] == [0, 1]  # one point at 72% drew an axis up to 150%
    assert figure["layout"]["xaxis"]["tickvals"] == list(backbone_transfer.LABELS_PER_CLASS)  # not 2, 3, ... 9, 10
    assert all(t["name"].startswith(registry.get("cifar5_resnet").title) for t in figure["data"])


def recorded_backbone_run(mode: str, labels: int, non_trainable: int):
    from core.lab import runs

    config = backbone_transfer.BackboneConfig(mode=mode, labels_per_class=labels)
    run = runs.create(config.params() | {"dataset": config.dataset, "learning_rate": config.lr}, config.model,
                      "transfer", "local", {runs.Tag.RECIPE: config.recipe, runs.Tag.VARIED: "mode,labels_per_class"})
    runs.log_progress(run.run_id, 1, {"test_accuracy": 0.5, "train_seconds": 3.0, "trainable_params": 1285,
                                      "non_trainable_params": non_trainable})
    runs.finish(run.run_id, "FINISHED")
    return runs.get(run.run_id)


@pytest.mark.slow
def test_from_scratch_freezes_nothing_and_two_transfer_runs_show_distinct_titles(run_store):
    from core.lab.runs import LONG_TITLE

    # A from-scratch net's only non-trainable weights are its batch norms' running averages (1,120 here).
    scratch = recorded_backbone_run("scratch", 500, 1120)
    frozen = recorded_backbone_run("frozen", 500, 175_000)
    at = open_page("backbones")
    table = at.dataframe[0].value
    by_recipe = {r["recipe"]: r for r in table.to_dict("records") if r["labels/class"] == 500}
    assert by_recipe[backbone_transfer.MODE_TITLES["frozen"]]["frozen"] == 175_000
    assert by_recipe[backbone_transfer.MODE_TITLES["scratch"]]["frozen"] is None or \
        str(by_recipe[backbone_transfer.MODE_TITLES["scratch"]]["frozen"]) in ("nan", "None")
    # The Compare table's network column shows about LONG_TITLE characters: two runs differ within them.
    assert scratch.label[:LONG_TITLE] != frozen.label[:LONG_TITLE], (scratch.label, frozen.label)


@pytest.mark.slow
def test_an_own_backbones_features_are_kept_by_the_model_files_content_not_its_time(fresh_clone):
    """A fresh clone (the same backbone file, written later) reads the features kept; it does not compute them
    again beside the old ones."""
    import os

    copy = fresh_clone("cifar5_resnet")
    config = backbone_transfer.BackboneConfig(backbone="cifar5_resnet")
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    first = backbone_transfer.features(config, x)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the same bytes, written later
    np.testing.assert_array_equal(backbone_transfer.features(config, x), first)
    assert len(list(backbones.features_dir().glob("cifar5_resnet-*.npz"))) == 1
