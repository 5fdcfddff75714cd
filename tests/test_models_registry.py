import numpy as np
import pytest

from core.nets import digits, registry
from core.nets.inference import Predictor, top_k


def test_net002_has_exactly_21840_parameters():
    assert digits.build_net002().count_params() == 21_840


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_every_builder_maps_an_image_to_a_probability_per_class(name):
    from core.data import datasets

    spec = datasets.get_dataset(registry.get(name).dataset)
    model = registry.get(name).build()
    shape = (28, 28, 1) if len(spec.image_shape) == 2 else spec.image_shape  # digits and letters: gray
    assert model.input_shape[1:] == shape
    probs = np.asarray(model(np.zeros((2, *shape), np.float32)))
    assert probs.shape == (2, len(spec.classes))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name, knobs", [("net002", dict(dropout=0.3, kernel_size=3)),
                                         ("convnet", dict(dropout=0.6, kernel_size=5)), ("dnn", dict(dropout=0.1))])
def test_builders_take_the_grid_knobs(name, knobs):
    model = registry.build(name, **knobs)
    rates = {layer.rate for layer in model.layers if hasattr(layer, "rate")}
    assert rates == {knobs["dropout"]}
    kernels = {layer.kernel_size for layer in model.layers if hasattr(layer, "kernel_size")}
    assert kernels <= {(knobs.get("kernel_size"),) * 2} or "kernel_size" not in knobs


def test_net002_kernel_size_changes_its_size_and_not_its_shape():
    assert registry.build("net002").count_params() == 21_840
    small = registry.build("net002", kernel_size=3)
    assert small.count_params() != 21_840 and small.output_shape == (None, 10)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(registry.ModelNotFound, match="unknown model 'vgg'"):
        registry.get("vgg")


def test_missing_trained_file_says_how_to_train(tmp_path):
    with pytest.raises(registry.ModelNotFound, match="python -m core train --model dnn"):
        registry.load("dnn", tmp_path)


@pytest.mark.parametrize("kept", [0.5, 100, 0])  # bytes (or the fraction) of the file a stopped copy left
def test_a_truncated_model_file_is_said_to_be_damaged_not_missing(tmp_path, kept):
    whole = registry.get("net002").path(None).read_bytes()
    cut = tmp_path / "net002.keras"
    cut.write_bytes(whole[: int(len(whole) * kept) if isinstance(kept, float) else kept])
    with pytest.raises(registry.ModelDamaged) as caught:
        registry.load("net002", tmp_path)
    message = str(caught.value)
    assert "not found" not in message.lower(), message
    assert str(cut) in message and "damaged" in message and f"{cut.stat().st_size:,} bytes" in message, message
    assert "python -m core train --model net002" in message, message  # what to do
    assert isinstance(caught.value, ValueError)  # the pages' and the command line's catch of a bad file holds


def test_shipped_models_load_and_have_cards():
    for name in registry.DRAW_MODELS:
        assert name in registry.available(), f"{name} is not shipped in assets/models"
        card = registry.card(name)
        for key in ("command", "data", "test_accuracy", "macro_f1", "params", "epochs_run",
                    "train_seconds", "device"):
            assert key in card, f"{name} card lacks {key}"
        assert card["data"]["sha256"] and len(card["data"]["sha256"]) == 64
    assert registry.best_model() in registry.DRAW_MODELS


def test_best_model_is_the_most_accurate_card(tmp_path):
    import json

    for name, acc in (("dnn", 0.98), ("convnet", 0.995), ("resnet", 0.99)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"test_accuracy": acc}))
    assert registry.best_model(tmp_path) == "convnet"
    assert registry.best_model(tmp_path / "none") == "resnet"
    (tmp_path / "convnet.json").write_text("{ not json")  # a corrupt card counts as no card
    assert registry.card("convnet", tmp_path) is None and registry.best_model(tmp_path) == "resnet"


def test_version_changes_when_the_model_file_is_replaced(tmp_path):
    import os

    assert registry.version("dnn", tmp_path) == 0
    path = tmp_path / "dnn.keras"
    path.write_bytes(b"one")
    first = registry.version("dnn", tmp_path)
    os.utime(path, ns=(first + 10**9, first + 10**9))
    assert first > 0 and registry.version("dnn", tmp_path) == first + 10**9


def test_predictor_matches_the_keras_model_and_top_k():
    model = digits.build_convnet()
    p = Predictor("convnet", model)
    x = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype(np.float32)
    probs, ms = p.predict(x)
    expected = np.asarray(model(x[None, ..., None], training=False))[0]
    assert np.allclose(probs, expected, atol=1e-5) and ms > 0
    batch = p.predict_batch(np.stack([x, x, x]))
    assert batch.shape == (3, 10) and np.allclose(batch[1], expected, atol=1e-5)
    best = top_k(probs, 3)
    assert [d for d, _ in best] == list(np.argsort(probs)[::-1][:3])


def test_a_photo_net_reads_each_photo_and_its_mirror_a_digit_net_does_not():
    photo = registry.build("cifar_resnet")
    x = np.random.default_rng(1).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    one, mirrored = (np.asarray(photo(v, training=False)) for v in (x, x[:, :, ::-1]))
    assert not np.allclose(one, mirrored, atol=1e-4)  # else the test could not tell the two apart
    got = Predictor("cifar_resnet", photo).predict_batch(x)
    assert np.allclose(got, (one + mirrored) / 2, atol=1e-5)
    digit = digits.build_convnet()
    d = np.random.default_rng(2).uniform(0, 1, (2, 28, 28, 1)).astype(np.float32)
    assert np.allclose(Predictor("convnet", digit).predict_batch(d), np.asarray(digit(d, training=False)), atol=1e-5)


def test_the_shipped_cifar10_model_reaches_90_percent_read_as_the_app_reads_photos():
    card = registry.card("cifar_resnet")
    assert card["test_time_mirror"] is True
    assert card["test_accuracy"] >= 0.90 and card["test_accuracy_one_view"] < card["test_accuracy"]
