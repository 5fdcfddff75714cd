"""Explaining a prediction: saliency maps against hand computation, sanity checks, invariance, attacks, neighbours."""

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from core.base import array_cache
from core.data import datasets
from core.explain import adversarial, invariance, neighbours, saliency, stroke_importance
from core.images import preprocess
from core.nets import heads, registry
from core.nets.inference import Predictor
from tests import canvas_payloads as recorded


@pytest.fixture(scope="module")
def mnist_test():
    _, (x, y) = datasets.load_mnist(download=False)
    return x.astype(np.float32) / 255.0, y


def tiny_gap_model(kernel: np.ndarray, dense: np.ndarray) -> keras.Model:
    """4x4 input, a 1x1 conv of 2 filters (no bias, linear), global average pooling, a softmax head of 3."""
    inputs = keras.Input((4, 4, 1))
    maps = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(maps)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(pooled))
    model.get_layer("conv").set_weights([kernel.reshape(1, 1, 1, 2)])
    model.get_layer("probs").set_weights([dense, np.zeros(3, np.float32)])
    return model


@pytest.mark.slow
def test_grad_cam_matches_the_hand_computed_class_activation_map():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (4, 4)).astype(np.float32)
    kernel = np.array([1.5, -0.5], np.float32)
    dense = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0]], np.float32)
    model = tiny_gap_model(kernel, dense)
    assert saliency.last_conv_layer(model) == "conv"
    for c in range(3):
        cam = saliency.grad_cam(model, saliency.grad_cam_model(model), image, c)
        # With global average pooling, d(score_c)/d(map_k at a pixel) = W[k, c] / 16 everywhere.
        maps = image[..., None] * kernel
        expected = np.maximum((maps * (dense[:, c] / 16)).sum(-1), 0)
        expected = expected / expected.max() if expected.max() > 0 else expected
        assert np.allclose(cam, expected, atol=1e-5), c


def test_integrated_gradients_of_a_linear_score_is_input_times_weight():
    inputs = keras.Input((4, 4, 1))
    flat = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="probs")(flat))  # linear scores, no softmax
    w = np.arange(32, dtype=np.float32).reshape(16, 2) / 10
    model.get_layer("probs").set_weights([w, np.array([0.5, -0.5], np.float32)])
    image = np.random.default_rng(1).uniform(0, 1, (4, 4)).astype(np.float32)
    attr = saliency.integrated_gradients(model, image, 1, steps=8)
    assert np.allclose(attr, image * w[:, 1].reshape(4, 4), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dnn", "convnet", "resnet"])
def test_integrated_gradients_are_complete(name, mnist_test):
    """The attributions add up to f(digit) - f(blank), within 1% (Sundararajan et al.'s completeness)."""
    model = registry.load(name)
    x, y = mnist_test
    for i in range(3):
        attr = saliency.integrated_gradients(model, x[i], int(y[i]), steps=1024)
        gap = saliency.probability(model, x[i], int(y[i])) - saliency.probability(model, np.zeros_like(x[i]),
                                                                              int(y[i]))
        assert abs(attr.sum() - gap) <= 0.01 * abs(gap), (name, i, attr.sum(), gap)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["grad_cam", "integrated_gradients"])
def test_maps_of_randomised_weights_differ_from_the_trained_ones(method, mnist_test):
    """Adebayo et al. (2018): a saliency method worth showing must depend on what the network learned."""
    trained, random = registry.load("convnet"), registry.build("convnet")
    x, y = mnist_test
    correlations = []
    for i in range(10):
        maps = []
        for model in (trained, random):
            if method == "grad_cam":
                maps.append(saliency.grad_cam(model, saliency.grad_cam_model(model), x[i], int(y[i])))
            else:
                maps.append(saliency.integrated_gradients(model, x[i], int(y[i])))
        # Integrated gradients are input x gradient: zero wherever the input is, for any weights. Compare the
        # maps where they can differ, on the ink (over the whole picture the shared zeros alone give 0.99).
        where = x[i] > 0.1 if method == "integrated_gradients" else np.ones_like(x[i], bool)
        correlations.append(spearmanr(maps[0][where], maps[1][where]).statistic)
    assert np.nanmean(correlations) < 0.5, correlations


def test_fgsm_at_zero_changes_nothing_and_more_epsilon_hurts_more(mnist_test):
    model = registry.load("dnn")
    x, y = mnist_test
    images, labels = x[:200], y[:200]
    assert np.array_equal(adversarial.fgsm(model, images[0], int(labels[0]), 0.0), images[0])
    means = []
    for eps in (0.0, 0.05, 0.1, 0.2):
        probs = []
        for digit in range(10):  # FGSM's label is shared by the batch: one batch per digit
            batch = images[labels == digit]
            adv = adversarial.fgsm(model, batch, digit, eps)
            probs.append(np.asarray(model(adv[..., None], training=False))[:, digit])
        means.append(float(np.concatenate(probs).mean()))
    assert means == sorted(means, reverse=True) and means[-1] < means[0] - 0.3, means


def test_pgd_stays_within_epsilon_and_fools_at_least_as_often_as_fgsm(mnist_test):
    model = registry.load("convnet")
    x, y = mnist_test
    batch = x[y == 3][:50]
    fg, pg = adversarial.fgsm(model, batch, 3, 0.15), adversarial.pgd(model, batch, 3, 0.15, steps=10)
    assert np.abs(pg - batch).max() <= 0.15 + 1e-5 and pg.min() >= 0 and pg.max() <= 1
    wrong = [(np.asarray(model(a[..., None])).argmax(1) != 3).mean() for a in (fg, pg)]
    assert wrong[1] >= wrong[0] and wrong[1] > 0.2, wrong


def test_transforms_at_their_neutral_value_change_nothing(mnist_test):
    x, _ = mnist_test
    for name, t in invariance.TRANSFORMS.items():
        assert np.allclose(invariance.apply(x[0], name, t.neutral), x[0], atol=1e-6), name
    assert invariance.batch(x[0], "rotate").shape == (len(invariance.TRANSFORMS["rotate"].values), 28, 28)
    thick = invariance.apply(x[0], "thickness", 1)
    assert thick.sum() > x[0].sum() > invariance.apply(x[0], "thickness", -1).sum()


@pytest.mark.parametrize("name, value", [("rotate", 40), ("shift", 6)])
def test_a_moved_digit_costs_the_dnn_more_confidence_than_the_convnet(name, value, mnist_test):
    x, y = mnist_test
    images, labels = x[:500], y[:500]
    drops = {}
    for model_name in ("dnn", "convnet"):
        p = Predictor.load(model_name)
        moved = np.stack([invariance.apply(im, name, value) for im in images])
        before = p.predict_batch(images)[np.arange(500), labels]
        after = p.predict_batch(moved)[np.arange(500), labels]
        drops[model_name] = float((before - after).mean())
    assert drops["dnn"] > drops["convnet"], drops


@pytest.mark.slow
def test_nearest_training_digits_of_a_training_digit_start_with_itself(tmp_path, monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    model = registry.load("net002")
    index = neighbours.build_index("net002", model)
    assert index.features.shape == (60_000, 50) and len(list((tmp_path / "cache" / "embeddings").glob("*.npz"))) == 1
    (x_train, y_train), _ = datasets.load_mnist(download=False)
    feature = heads.features_of(model, x_train[123].astype(np.float32) / 255.0)
    idx, dist = index.nearest(feature, k=8)
    assert idx[0] == 123 and dist[0] < 0.02 * dist[1] and len(idx) == 8  # float32 round-off, not 0
    assert (y_train[idx] == y_train[123]).mean() >= 0.75
    again = neighbours.build_index("net002", model)  # from the disk cache
    assert np.array_equal(again.features, index.features)
    indexer = neighbours.Indexer("net002", model)  # a page's, with the features on disk: complete at once
    assert indexer.complete and np.array_equal(indexer.index.features, index.features)


def cache_file(name: str):
    """Where the features of model ``name`` on MNIST's training digits are kept."""
    (x_train, _), _ = datasets.load_mnist(download=False)
    return array_cache.path_for(*neighbours._features_entry(name, x_train))


def test_the_neighbours_cache_is_keyed_by_the_model_files_content_not_its_time(fresh_clone):
    """A fresh clone (byte-identical models, new modification times) finds the features kept; new weights don't."""
    import os

    copy = fresh_clone("net002")
    kept = cache_file("net002")
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the same bytes, written later
    assert cache_file("net002") == kept
    keras.utils.set_random_seed(1)
    registry.build("net002").save(copy)  # other weights
    assert cache_file("net002") != kept


def test_the_neighbours_cache_is_keyed_by_the_training_digits(tmp_path, monkeypatch):
    """Other training digits (another data file with as many) are read again, not searched in the old features."""
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    (x_train, y_train), test = datasets.load_mnist(download=False)
    model = registry.load("net002")
    monkeypatch.setattr(datasets, "load_mnist", lambda **_: ((x_train[:1000], y_train[:1000]), test))
    first = neighbours.build_index("net002", model)
    monkeypatch.setattr(datasets, "load_mnist", lambda **_: ((x_train[1000:2000], y_train[1000:2000]), test))
    second = neighbours.build_index("net002", model)
    expected = heads.embedding_model(model)(x_train[1000:1008, ..., None] / 255.0, training=False)
    np.testing.assert_allclose(second.features[:8], expected, atol=1e-5)
    assert not np.allclose(first.features[:8], second.features[:8])
    assert len(list((tmp_path / "cache" / "embeddings").glob("*.npz"))) == 2


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


DAMAGES = {
    "truncated": lambda path, good: path.write_bytes(_npz_bytes(features=good)[:5000]),
    "not an archive": lambda path, good: path.write_bytes(b"not a .npz file"),
    "a lone array": lambda path, good: path.write_bytes(_npy_bytes(good)),
    "too few digits": lambda path, good: path.write_bytes(_npz_bytes(features=good[:100])),
    "float64": lambda path, good: path.write_bytes(_npz_bytes(features=good.astype(np.float64))),
    "another width": lambda path, good: path.write_bytes(_npz_bytes(features=good[:, :10])),
    "no features": lambda path, good: path.write_bytes(_npz_bytes(other=good)),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_neighbours_cache_is_not_searched_but_made_again(damage, tmp_path, monkeypatch):
    """A cache file that is not 60,000 float32 features of the network's width is removed, not indexed."""
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    model = registry.load("net002")
    path = cache_file("net002")
    DAMAGES[damage](path, np.zeros((60_000, 50), np.float32))
    indexer = neighbours.Indexer("net002", model)  # a page's: the damaged file is not taken for a full index
    assert not indexer.complete and indexer.index is None and not path.exists()


def fewer_training_digits(monkeypatch, n: int) -> int:
    """The index made of MNIST's first ``n`` training digits: where a test checks what is built and kept, not
    what the whole set finds (the nearest-digits test above searches all 60,000)."""
    x, y = neighbours._training_digits()
    monkeypatch.setattr(neighbours, "_training_digits", lambda: (x[:n], y[:n]))
    return n


@pytest.mark.slow
def test_a_truncated_neighbours_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    digits = fewer_training_digits(monkeypatch, 5_000)
    model = registry.load("net002")
    x, _ = neighbours._training_digits()
    path = array_cache.path_for(*neighbours._features_entry("net002", x))
    DAMAGES["truncated"](path, np.zeros((digits, 50), np.float32))
    old = path.parent / "net002-0123456789abcdef.npy"  # kept under a key of its own before the shared cache
    np.save(old, np.zeros((2, 50), np.float32))
    index = neighbours.build_index("net002", model)
    assert index.features.shape == (digits, 50) and index.features.any()
    np.testing.assert_array_equal(array_cache.read(path)["features"], index.features)  # a whole copy in its place
    assert not old.exists()


@pytest.mark.slow
def test_an_indexer_starts_from_a_sample_and_completes_in_the_background(tmp_path, monkeypatch):
    """No features on disk: the first digits it reads in a few seconds, then all of them; the same features."""
    import threading

    monkeypatch.setenv("VP_HOME", str(tmp_path))
    digits = fewer_training_digits(monkeypatch, neighbours.SAMPLE + 2 * neighbours.BATCH)  # more than a sample
    model = registry.load("net002")
    indexer = neighbours.Indexer("net002", model)
    assert indexer.index is None and not indexer.complete
    sample = indexer.start()
    n = len(sample.labels)  # as many as it read in a few seconds, whole batches
    assert neighbours.SAMPLE_BATCH <= n <= neighbours.SAMPLE and n % neighbours.SAMPLE_BATCH == 0
    assert sample.features.shape == (n, 50)
    assert indexer.sample_seconds > 0
    (build,) = [t for t in threading.enumerate() if t.name == "index-net002"]
    build.join(timeout=300)
    assert indexer.complete and indexer.error is None and indexer.seconds_left() == 0.0
    assert indexer.start() is indexer.index and len(indexer.index.labels) == digits
    np.testing.assert_array_equal(indexer.index.features[:n], sample.features)
    full = neighbours.build_index("net002", model)  # the file the background build saved
    np.testing.assert_array_equal(full.features, indexer.index.features)


def test_leaving_out_each_stroke_of_drawings_the_canvas_sent():
    """Stroke importance on the canvas' own strokes and pixels (recorded in Chromium): one effect per stroke,
    each picture the drawing without that stroke, as the canvas draws it."""
    predictor = Predictor.load("convnet")
    probs, _ = predictor.predict(preprocess.from_canvas(recorded.gray("four_two_strokes")).image)
    assert probs.argmax() == 4
    effects = stroke_importance.leave_one_out(recorded.drawn_strokes("four_two_strokes"), predictor, 4)
    assert [e.index for e in effects] == [0, 1]
    # without its second stroke, the 4 is what the canvas showed after its first stroke
    without_second = recorded.downscale(effects[1].image)
    assert np.abs(without_second - recorded.gray28("four_first_stroke")).mean() < 3.5
    assert all(e.probability < 0.5 and e.reading not in (None, 4) for e in effects)  # a 4 needs both strokes
    # the two pictures of a two-stroke 7 make up the drawing the canvas showed
    seven = stroke_importance.leave_one_out(recorded.drawn_strokes("seven_two_strokes"), predictor, 7)
    whole = recorded.downscale(np.maximum(seven[0].image, seven[1].image))
    assert np.abs(whole - recorded.gray28("seven_two_strokes")).mean() < 3.5
    # one stroke: leaving it out leaves nothing to read
    (alone,) = stroke_importance.leave_one_out(recorded.drawn_strokes("three_one_stroke"), predictor, 3)
    assert alone.reading is None and alone.probability == 0.0 and not alone.image.any()


def test_the_install_command_computes_the_indexes_once(tmp_path, monkeypatch, capsys):
    """``python -m core indexes``: a JSON line per network, its features computed the first time and found kept
    the next (on MNIST's first 2,000 training digits here); an unknown network is refused with a message."""
    import json

    from core.__main__ import main

    x, y = neighbours._training_digits()
    monkeypatch.setattr(neighbours, "_training_digits", lambda: (x[:2000], y[:2000]))
    monkeypatch.setenv("VP_HOME", str(tmp_path))
    for computed in (True, False):
        assert main(["indexes", "net002"]) == 0
        (line,) = capsys.readouterr().out.splitlines()
        assert json.loads(line) | {"seconds": 0} == {"network": "net002", "digits": 2000, "computed": computed,
                                                     "seconds": 0}
    assert len(list((tmp_path / "cache" / "embeddings").glob("net002-*.npz"))) == 1
    assert main(["indexes", "greek"]) == 2
    assert "no nearest-digit index for greek" in capsys.readouterr().err
