"""core.lab.evaluation: test answers cached per model file, and the scores, mistakes and disagreements read from them.

A net002 with random weights, saved in a temporary models folder, stands in for a trained model; the cache
goes to a temporary VP_HOME.
"""

import os
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from core.base import array_cache
from core.base.metrics import evaluate
from core.data import datasets
from core.lab import evaluation
from core.nets import registry
from core.nets.inference import Predictor


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A VP_HOME of the test's own: the predictions cache starts empty."""
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """A models folder holding net002 with random weights, in place of the shipped one."""
    folder = tmp_path / "models"
    folder.mkdir()
    keras.utils.set_random_seed(1)
    registry.build("net002").save(folder / "net002.keras")
    monkeypatch.setattr(registry, "MODELS_DIR", folder)
    return folder


class Counting:
    """A Predictor that counts its batch calls."""

    def __init__(self, predictor: Predictor):
        self.predictor, self.calls = predictor, 0

    def predict_batch(self, images, batch_size=256):
        self.calls += 1
        return self.predictor.predict_batch(images, batch_size)


class Refusing:
    def predict_batch(self, images, batch_size=256):
        raise AssertionError("the cached answers should have been read, not computed again")


@pytest.fixture(scope="module")
def mnist_test():
    return evaluation.test_set("mnist")


@pytest.fixture
def first_500(mnist_test, monkeypatch):
    """The first 500 test digits in place of the 10,000: the cache does not depend on how many."""
    x, y = mnist_test

    def test_set(dataset):
        assert dataset == "mnist"
        return x[:500], y[:500]

    monkeypatch.setattr(evaluation, "test_set", test_set)
    return x[:500], y[:500]


def cache_files(home):
    return sorted((home / "cache" / "predictions").glob("*.npz"))


def test_the_test_set_is_mnist_s_10000_test_digits_scaled_with_a_channel(mnist_test):
    x, y = mnist_test
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))


def test_predictions_are_computed_once_per_model_file(home, models_dir, first_500, monkeypatch):
    x, _ = first_500
    first = Counting(Predictor.load("net002"))
    probs = evaluation.test_predictions("net002", first)
    assert first.calls == 1
    assert probs.shape == (500, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    model = registry.load("net002")
    np.testing.assert_allclose(probs[:8], model(x[:8], training=False).numpy(), atol=1e-5)
    [cached] = cache_files(home)
    assert cached.name.startswith("net002-")
    np.testing.assert_array_equal(array_cache.read(cached)["probs"], probs)

    # The second call reads the file: no predictor is asked, none is even loaded.
    np.testing.assert_array_equal(evaluation.test_predictions("net002", Refusing()), probs)
    with monkeypatch.context() as m:
        m.setattr(registry, "load", lambda *a, **k: pytest.fail("the model was loaded for cached answers"))
        np.testing.assert_array_equal(evaluation.test_predictions("net002"), probs)

    # A new file (another training, other bytes): its answers are computed afresh, not the old ones read.
    keras.utils.set_random_seed(2)
    retrained = registry.build("net002")
    retrained.save(models_dir / "net002.keras")
    second = Counting(Predictor("net002", retrained))
    new = evaluation.test_predictions("net002", second)
    assert second.calls == 1
    assert not np.allclose(new, probs)
    np.testing.assert_allclose(new[:8], retrained(x[:8], training=False).numpy(), atol=1e-5)
    assert len(cache_files(home)) == 2  # one per model file
    np.testing.assert_array_equal(evaluation.test_predictions("net002", Refusing()), new)


def test_the_predictions_cache_is_keyed_by_the_model_files_content_not_its_time(fresh_clone, first_500):
    """A fresh clone (byte-identical model, a new modification time) reads the answers kept; new bytes don't."""
    copy = fresh_clone("net002")
    counting = Counting(Predictor.load("net002"))
    probs = evaluation.test_predictions("net002", counting)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the same bytes, written later
    np.testing.assert_array_equal(evaluation.test_predictions("net002", Refusing()), probs)
    keras.utils.set_random_seed(4)
    registry.build("net002").save(copy)  # other weights
    with pytest.raises(AssertionError, match="computed again"):
        evaluation.test_predictions("net002", Refusing())


def test_the_predictions_cache_is_keyed_by_the_test_images(home, models_dir, mnist_test, monkeypatch):
    """Other test images of the same number (another data file) are answered afresh, not read from the cache."""
    x, y = mnist_test
    monkeypatch.setattr(evaluation, "test_set", lambda dataset: (x[:200], y[:200]))
    first = evaluation.test_predictions("net002")
    monkeypatch.setattr(evaluation, "test_set", lambda dataset: (x[200:400], y[200:400]))
    counting = Counting(Predictor.load("net002"))
    second = evaluation.test_predictions("net002", counting)
    assert counting.calls == 1 and not np.array_equal(first, second)


@pytest.mark.parametrize("damage", ["truncated", "not an archive"])
def test_a_damaged_predictions_cache_is_computed_again(damage, home, models_dir, first_500):
    probs = evaluation.test_predictions("net002")
    [cached] = cache_files(home)
    whole = cached.read_bytes()
    cached.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"not an archive")
    counting = Counting(Predictor.load("net002"))
    np.testing.assert_array_equal(evaluation.test_predictions("net002", counting), probs)
    assert counting.calls == 1
    np.testing.assert_array_equal(array_cache.read(cached)["probs"], probs)  # a whole copy in its place


@pytest.mark.slow
def test_without_a_predictor_the_model_file_is_loaded(home, models_dir, mnist_test):
    probs = evaluation.test_predictions("net002")  # on all 10,000 test digits
    x, _ = mnist_test
    assert probs.shape == (10000, 10)
    model = keras.saving.load_model(models_dir / "net002.keras", compile=False)
    np.testing.assert_allclose(probs[-4:], model(x[-4:], training=False).numpy(), atol=1e-5)
    assert len(cache_files(home)) == 1


def test_scores_are_the_metrics_of_the_answers():
    y = np.array([0, 1, 2, 2, 1])
    probs = np.eye(3, dtype=np.float32)[[0, 2, 2, 1, 1]]
    scores = evaluation.scores(y, probs)
    assert scores == evaluate(y, probs)
    assert scores["test_accuracy"] == 0.6 and scores["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 1, 1]]


Y = np.array([0, 1, 2, 0, 1])
PROBS = np.array([[0.90, 0.05, 0.05],  # right
                  [0.70, 0.20, 0.10],  # a 1 read as 0 at 70%
                  [0.10, 0.30, 0.60],  # right
                  [0.02, 0.03, 0.95],  # a 0 read as 2 at 95%: the most confident mistake
                  [0.50, 0.40, 0.10]], np.float32)  # a 1 read as 0 at 50%


def test_mistakes_most_confidently_wrong_first():
    wrong = evaluation.mistakes(Y, PROBS)
    assert wrong == [{"index": 3, "true": 0, "predicted": 2, "confidence": pytest.approx(0.95)},
                     {"index": 1, "true": 1, "predicted": 0, "confidence": pytest.approx(0.70)},
                     {"index": 4, "true": 1, "predicted": 0, "confidence": pytest.approx(0.50)}]
    assert all(type(w["index"]) is int and type(w["confidence"]) is float for w in wrong)
    assert [w["index"] for w in evaluation.mistakes(Y, PROBS, limit=2)] == [3, 1]
    assert evaluation.mistakes(PROBS.argmax(axis=1), PROBS) == []


def answers(preds: list[int], classes: int = 10) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[preds]


def test_disagreements_most_divided_first():
    predictions = {"dnn": answers([0, 1, 2, 3, 4]),
                   "convnet": answers([0, 2, 2, 0, 4]),
                   "resnet": answers([0, 1, 2, 5, 7])}
    split = evaluation.disagreements(predictions)
    # image 3: three different answers; images 1 and 4: two each, in test-set order
    assert split == [{"index": 3, "answers": {"dnn": 3, "convnet": 0, "resnet": 5}},
                     {"index": 1, "answers": {"dnn": 1, "convnet": 2, "resnet": 1}},
                     {"index": 4, "answers": {"dnn": 4, "convnet": 4, "resnet": 7}}]
    assert [s["index"] for s in evaluation.disagreements(predictions, limit=2)] == [3, 1]
    agreeing = {"dnn": answers([0, 1, 2]), "convnet": answers([0, 1, 2])}
    assert evaluation.disagreements(agreeing) == []
    assert evaluation.disagreements({"dnn": answers([0, 1, 2])}) == []


def test_ms_per_image_is_the_median_single_image_call(monkeypatch):
    clock = SimpleNamespace(now=0.0)
    durations_ms = iter([9.0, 1.0, 4.0, 2.0, 3.0])
    seen = []

    class Slow:
        shape = (28, 28, 1)

        def predict(self, image):
            seen.append(image)
            clock.now += next(durations_ms) / 1000
            return np.zeros(10), 0.0

    monkeypatch.setattr(evaluation, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    assert evaluation.ms_per_image(Slow(), repeats=5) == pytest.approx(3.0)  # the median, not the mean (3.8)
    assert len(seen) == 5
    assert all(x.shape == (28, 28, 1) and x.dtype == np.float32 and not x.any() for x in seen)


def test_ms_per_image_of_a_real_network(models_dir):
    ms = evaluation.ms_per_image(Predictor.load("net002"), repeats=5)
    assert 0.0 < ms < 1000.0


def test_shipped_answers_are_read_beside_the_model_and_only_for_that_file(home, models_dir, first_500, monkeypatch):
    x, y = first_500
    test_set = evaluation.test_set
    path = evaluation.ship_answers("net002")
    assert path == models_dir / "net002.answers.npz"
    probs = evaluation.test_predictions("net002")
    model = registry.load("net002")
    np.testing.assert_allclose(probs[:8], model(x[:8], training=False).numpy(), atol=1e-3)  # kept as float16
    np.testing.assert_array_equal(evaluation.test_labels("net002"), y)

    # Another VP_HOME (a fresh install): the shipped answers are read, neither model nor data set is.
    monkeypatch.setenv("VP_HOME", str(home.parent / "fresh"))
    monkeypatch.setattr(registry, "load", lambda *a, **k: pytest.fail("the model was loaded for shipped answers"))
    monkeypatch.setattr(evaluation, "test_set", lambda d: pytest.fail("the test set was read for shipped answers"))
    np.testing.assert_array_equal(evaluation.test_predictions("net002", Refusing()), probs)
    np.testing.assert_array_equal(evaluation.test_labels("net002"), y)

    # The model trained again: its old answers are not read (its test images are, to compute new ones).
    monkeypatch.setattr(evaluation, "test_set", test_set)
    keras.utils.set_random_seed(3)
    registry.build("net002").save(models_dir / "net002.keras")
    assert evaluation.shipped_answers("net002") is None
    with pytest.raises(AssertionError, match="computed again"):
        evaluation.test_predictions("net002", Refusing())


def test_the_shipped_photo_networks_ship_their_answers_for_their_own_files():
    """``python -m core answers`` ran after the last training of each shipped photo network (./train_all.sh runs
    it): the CIFAR ResNet-9's answers take over a minute and a half to compute on a CPU. Any other shipped answers
    belong to their model's file too."""
    shipped = registry.available(dataset=None)
    photos = [n for n in shipped if not datasets.get_dataset(registry.get(n).dataset).drawings]
    assert "cifar_resnet" in photos
    for name in shipped:
        answers = evaluation.shipped_answers(name)
        if name not in photos and not evaluation.answers_path(name).is_file():
            continue
        assert answers is not None, f"{name}: run python -m core answers {name}"
        probs, labels = answers
        card = registry.card(name)
        assert probs.shape == (len(labels), len(datasets.get_dataset(registry.get(name).dataset).classes)), name
        # The card's score, computed when the model was trained, is the score of the shipped answers.
        assert float((probs.argmax(1) == labels).mean()) == pytest.approx(card["test_accuracy"], abs=2e-4), name


def test_the_servers_start_times_the_networks_so_that_compare_loads_none(home, models_dir, monkeypatch):
    timed = evaluation.time_ahead(["net002"])
    assert 0.0 < timed["net002"] < 1000.0
    monkeypatch.setattr(registry, "load", lambda *a, **k: pytest.fail("a network was loaded to time it again"))
    assert evaluation.kept_ms_per_image("net002", lambda: pytest.fail("timed again")) == timed["net002"]
    assert evaluation.time_ahead(["net002"]) == timed
