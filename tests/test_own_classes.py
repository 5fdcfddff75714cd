"""Own classes: a new head on the ResNet's frozen features, trained on drawn circles, crosses and triangles."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from bench.harness.shapes import SHAPES, draw, drawn_shapes
from core import own_classes as oc
from core.data import zipdata
from core.images import preprocess
from core.nets import registry
from core.own_classes import ProjectError

pytestmark = pytest.mark.skipif("resnet" not in registry.available(), reason="the shipped ResNet is missing")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A VP_HOME of the test's own: features are cached by content, so one test's would be another's."""
    monkeypatch.setenv("VP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def shapes():
    """Ten drawings of each of three shapes, preprocessed as the canvas' drawings are."""
    return drawn_shapes(per_class=10, seed=0)


def make_project(name: str, shapes, per_class: int = 10, classes: tuple[str, ...] = SHAPES):
    images, labels = shapes
    folder = oc.create_project(name, list(classes))
    for label, cls in enumerate(SHAPES):
        for image in images[labels == label][:per_class]:
            oc.add_example(folder, cls, image)
    return folder


@pytest.fixture
def count_embeds(monkeypatch):
    """Counts the pictures that go through the network (``own_classes.embed``)."""
    seen = []
    real = oc.embed

    def counting(model_name, images, **kwargs):
        seen.append(len(images))
        return real(model_name, images, **kwargs)

    monkeypatch.setattr(oc.feature_cache, "embed", counting)
    return seen


def test_held_out_accuracy_on_drawn_shapes(shapes):
    folder = make_project("shapes", shapes)
    X = oc.features(folder, "resnet")
    _, y, classes = oc.examples(folder)
    assert X.shape == (30, 256) and classes == list(SHAPES)
    scores = oc.held_out(X, y, classes)
    assert scores["accuracy"] >= 0.8, scores
    assert scores["folds"] == 5 and len(scores["predictions"]) == 30
    assert np.array(scores["confusion_matrix"]).sum() == 30 and len(scores["per_class_accuracy"]) == 3
    # Held out, not training accuracy: a head fits shuffled labels perfectly, but cannot predict unseen ones.
    shuffled = np.random.default_rng(0).permutation(y)
    assert oc.held_out(X, shuffled, classes)["accuracy"] < 0.7


def test_features_are_computed_once(shapes, count_embeds):
    folder = make_project("cached", shapes)
    first = oc.features(folder, "resnet")
    assert count_embeds == [30]
    again = oc.features(folder, "resnet")
    assert count_embeds == [30], "the second call ran the network"
    np.testing.assert_array_equal(first, again)


def test_one_new_example_costs_one_feature(shapes, count_embeds):
    folder = make_project("one_more", shapes, per_class=5)
    before = oc.features(folder, "resnet")
    count_embeds.clear()
    extra = preprocess.from_canvas(draw("circle", np.random.default_rng(99))).image
    path = oc.add_example(folder, "circle", extra)
    after = oc.features(folder, "resnet")
    assert count_embeds == [1]
    assert after.shape == (16, 256)
    np.testing.assert_array_equal(after[:5], before[:5])  # circles come first, the new one last among them
    np.testing.assert_array_equal(after[6:], before[5:])
    stored = oc.examples(folder)[0][5]  # the new circle as saved (8-bit), which is what the network read
    np.testing.assert_allclose(stored, extra, atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(after[5], oc.embed("resnet", stored[None])[0], atol=1e-5)
    oc.remove_example(path)
    count_embeds.clear()
    np.testing.assert_array_equal(oc.features(folder, "resnet"), before)
    assert count_embeds == []


def test_a_new_model_file_recomputes_the_features(shapes, count_embeds, monkeypatch):
    folder = make_project("new_file", shapes, per_class=3)
    oc.features(folder, "resnet")
    key = oc.feature_cache.model_key("resnet")
    monkeypatch.setattr(oc.feature_cache, "model_key", lambda name: key + "retrained")  # other weights
    oc.features(folder, "resnet")
    assert count_embeds == [9, 9]


def test_the_same_drawings_in_another_project_cost_no_network_pass(shapes, count_embeds):
    """Features are kept by the example's content, not by project: an import or a copy of a project reads them."""
    first = oc.features(make_project("first", shapes, per_class=3), "resnet")
    copy = oc.features(make_project("copy", shapes, per_class=3), "resnet")
    assert count_embeds == [9]
    np.testing.assert_array_equal(copy, first)


def test_features_are_computed_again_when_their_recipe_changes(shapes, count_embeds, monkeypatch):
    """The code that reads and embeds an example is part of its key: pixels scaled another way are new features."""
    folder = make_project("recipe", shapes, per_class=3)
    first = oc.features(folder, "resnet")

    def scale_pixels(pixels):  # a changed recipe: pixels in [-1, 1]
        return np.asarray(pixels, np.float32) / 127.5 - 1.0

    recipe = tuple(scale_pixels if f is preprocess.scale_pixels else f for f in oc.feature_cache.RECIPE)
    monkeypatch.setattr(preprocess, "scale_pixels", scale_pixels)
    monkeypatch.setattr(oc.feature_cache, "RECIPE", recipe)
    second = oc.features(folder, "resnet")
    assert count_embeds == [9, 9] and not np.allclose(first, second)


def test_damaged_cached_features_are_computed_again(shapes, count_embeds, home):
    folder = make_project("damaged", shapes, per_class=3)
    first = oc.features(folder, "resnet")
    [kept] = (home / "cache" / "own-features").iterdir()
    kept.write_bytes(kept.read_bytes()[:-100])  # truncated
    np.testing.assert_array_equal(oc.features(folder, "resnet"), first)
    assert count_embeds == [9, 9]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_head_is_the_fitted_softmax_regression(n_classes):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(12 * n_classes, 20)) + np.repeat(np.eye(n_classes, 20) * 2, 12, axis=0)
    y = np.repeat(np.arange(n_classes), 12)
    head = oc.train_head(X, y, n_classes)
    reference = make_pipeline(Normalizer(), LogisticRegression(C=oc.HEAD_C, max_iter=2000)).fit(X, y)
    np.testing.assert_allclose(head.predict_proba(X), reference.predict_proba(X), atol=1e-9)
    assert head.predict_proba(X[0]).shape == (n_classes,)


def test_a_head_saved_before_unit_features_reads_as_it_was_trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 6)) + np.repeat(np.eye(2, 6) * 2, 12, axis=0)
    y = np.repeat(np.arange(2), 12)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(X, y)
    scaler, fit = reference.steps[0][1], reference.steps[1][1]
    coef, intercept = fit.coef_, fit.intercept_
    old = {"model": "resnet", "model_version": 1, "classes": ["a", "b"], "mean": scaler.mean_.tolist(),
           "scale": scaler.scale_.tolist(), "coef": np.vstack([-coef / 2, coef / 2]).tolist(),
           "intercept": np.concatenate([-intercept / 2, intercept / 2]).tolist()}  # no "unit"
    head = oc.Head.from_json(old)
    assert head.unit is False
    np.testing.assert_allclose(head.predict_proba(X), reference.predict_proba(X), atol=1e-9)
    assert oc.Head.from_json(head.to_json()).unit is False


def test_head_round_trip_gives_identical_probabilities(shapes):
    folder = make_project("saved_head", shapes, per_class=4)
    head = oc.train(folder, "resnet")
    X = oc.features(folder, "resnet")
    loaded = oc.load_head(folder, "resnet")
    assert loaded.class_names == list(SHAPES) and loaded.model_version == oc.feature_cache.model_key("resnet")
    assert np.array_equal(loaded.predict_proba(X), head.predict_proba(X))
    assert json.loads((folder / "head-resnet.json").read_text())["model"] == "resnet"
    assert oc.load_head(folder, "convnet") is None


def test_project_survives_a_reload(shapes, count_embeds):
    folder = make_project("reloaded", shapes, per_class=3)
    images, labels, _ = oc.examples(folder)
    head = oc.train(folder, "resnet")
    oc.feature_cache.network.cache_clear()  # as a new server process would start
    count_embeds.clear()
    assert "reloaded" in oc.list_projects()
    again, again_labels, classes = oc.examples("reloaded")
    assert classes == list(SHAPES)
    np.testing.assert_array_equal(again_labels, labels)
    np.testing.assert_allclose(again, images, atol=0.5 / 255)  # stored as 8-bit PNG
    X = oc.features("reloaded", "resnet")
    assert count_embeds == []
    np.testing.assert_array_equal(oc.load_head("reloaded", "resnet").predict_proba(X), head.predict_proba(X))
    oc.delete_project("reloaded")
    assert "reloaded" not in oc.list_projects()
    with pytest.raises(ProjectError, match="There is no project named 'reloaded'"):
        oc.examples("reloaded")


def test_predict_reads_a_new_drawing(shapes):
    folder = make_project("live", shapes)
    head = oc.train(folder, "resnet")
    rng = np.random.default_rng(7)
    for label, kind in enumerate(SHAPES):
        probs = oc.predict(head, "resnet", preprocess.from_canvas(draw(kind, rng)).image)
        assert probs.shape == (3,) and abs(probs.sum() - 1) < 1e-9
        assert probs.argmax() == label, (kind, probs)
    with pytest.raises(ProjectError, match="trained on the resnet network's features"):
        oc.predict(head, "convnet", np.zeros((28, 28)))


def test_export_then_import_gives_the_same_examples(shapes):
    # Classes not in alphabetical order, and over 9 examples with a gap: both orders must survive the zip.
    folder = make_project("exported", shapes, per_class=10, classes=("triangle", "circle", "cross"))
    oc.remove_example(folder / "examples" / "cross" / "2.png")
    oc.train(folder, "resnet")
    data = oc.export_project("exported")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert ".vision-playground/project.json" in names and ".vision-playground/head-resnet.json" in names
    assert zipdata.inspect_zip(data, zipdata.ZipLimits(min_images_per_class=1)).classes == {
        "circle": 10, "cross": 9, "triangle": 10}
    report = oc.import_examples("imported", data)
    assert report["added"] == {"triangle": 10, "circle": 10, "cross": 9} and report["skipped_empty"] == []
    assert oc.counts("imported") == oc.counts("exported") == report["added"]
    original, imported = oc.examples("exported"), oc.examples("imported")
    assert imported[2] == original[2] == ["triangle", "circle", "cross"]
    np.testing.assert_array_equal(imported[1], original[1])
    np.testing.assert_array_equal(imported[0], original[0])


def test_import_preprocesses_big_pictures_and_checks_classes(shapes):
    folder = make_project("grows", shapes, per_class=2)
    drawing = draw("triangle", np.random.default_rng(5))
    buf = io.BytesIO()
    Image.fromarray(np.round(255 - drawing * 255).astype(np.uint8)).save(buf, format="PNG")  # dark ink on white paper
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(oc.MIN_IMPORT_PER_CLASS):
            z.writestr(f"Triangle/mine{i}.png", buf.getvalue())
    report = oc.import_examples("grows", archive.getvalue())
    assert report["added"] == {"circle": 0, "cross": 0, "triangle": oc.MIN_IMPORT_PER_CLASS}
    images, labels, _ = oc.examples(folder)
    expected = preprocess.to_mnist(1 - drawing).image
    np.testing.assert_allclose(images[labels == 2][-1], expected, atol=0.5 / 255 + 1e-6)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(oc.MIN_IMPORT_PER_CLASS):
            z.writestr(f"square/{i}.png", buf.getvalue())
    with pytest.raises(ProjectError, match="classes the project 'grows' does not: square"):
        oc.import_examples("grows", archive.getvalue())
    with pytest.raises(ProjectError, match="not a zip archive"):
        oc.import_examples("new one", b"not a zip")
    assert "new one" not in oc.list_projects()


@pytest.mark.parametrize("name, classes, message", [
    ("p1", ["circle"], "needs 2 to 10 classes; 1 was given"),
    ("p2", [f"c{i}" for i in range(11)], "needs 2 to 10 classes; 11 were given"),
    ("p3", ["circle", "Circle"], "'circle' and 'Circle' are the same once cleaned"),
    ("p4", ["circle", "circle"], "'circle' is given twice"),
    ("p5", ["circle", "?!"], "'?!' has no letters or digits"),
    ("", ["circle", "cross"], "Give the project a name"),
    ("../..", ["circle", "cross"], "Give the project a name"),
])
def test_invalid_projects_are_refused_clearly(name, classes, message):
    with pytest.raises(ProjectError, match=message):
        oc.create_project(name, classes)
    assert not set(oc.list_projects()) & {"p1", "p2", "p3", "p4", "p5"}


def test_too_few_examples_and_bad_examples_are_refused(shapes):
    folder = make_project("few", shapes, per_class=2)
    oc.remove_example(folder / "examples" / "cross" / "1.png")
    X = oc.features(folder, "resnet")
    _, y, classes = oc.examples(folder)
    with pytest.raises(ProjectError, match=r"Draw at least 2 examples of each class .*too few in: cross \(1\)"):
        oc.held_out(X, y, classes)
    with pytest.raises(ProjectError, match="already exists"):
        oc.create_project("few", ["a", "b"])
    with pytest.raises(ProjectError, match="not a class of this project"):
        oc.add_example(folder, "square", shapes[0][0])
    with pytest.raises(ProjectError, match="empty"):
        oc.add_example(folder, "circle", np.zeros((28, 28)))
    with pytest.raises(ProjectError, match="28x28"):
        oc.add_example(folder, "circle", np.ones((32, 32)))
    with pytest.raises(ProjectError, match="not an example of a project"):
        oc.remove_example(folder / "project.json")
    with pytest.raises(ProjectError, match=r"too few in: square \(0\)"):
        oc.train_head(np.ones((3, 4)), np.array([0, 0, 1]), 3, ["circle", "cross", "square"])


def test_feature_map_is_two_dimensional_and_keeps_its_orientation(shapes):
    folder = make_project("mapped", shapes)
    X = oc.features(folder, "resnet")
    _, y, _ = oc.examples(folder)
    points = oc.feature_map(X, y)
    assert points.shape == (30, 2) and np.isfinite(points).all() and points.std(axis=0).min() > 0
    assert (points[y == 0].mean(axis=0) <= 0).all()  # the first class sits on the negative side of each axis
    # Classes apart on the map: each class's centre is nearer its own points than any other centre.
    centres = np.stack([points[y == k].mean(axis=0) for k in range(3)])
    nearest = np.linalg.norm(points[:, None] - centres[None], axis=2).argmin(axis=1)
    assert (nearest == y).mean() >= 0.8
    assert oc.feature_map(X[:1], y[:1]).shape == (1, 2)


def zip_of(pictures: dict[str, list[np.ndarray]]) -> bytes:
    """A zip of class folders holding these pictures (gray, 0 = black paper, 1 = white ink) as PNG files."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for cls, images in pictures.items():
            for i, image in enumerate(images):
                buf = io.BytesIO()
                Image.fromarray(np.round(image * 255).astype(np.uint8)).save(buf, format="PNG")
                z.writestr(f"{cls}/{i}.png", buf.getvalue())
    return archive.getvalue()


def test_import_needs_five_pictures_of_each_class_as_the_page_says(shapes):
    images, labels = shapes
    few = zip_of({"triangle": [images[labels == 0][0]], "circle": list(images[labels == 1][:5])})
    with pytest.raises(ProjectError, match=r"at least 5 images; too few in: triangle \(1\)"):
        oc.import_examples("too few", few)
    assert "too few" not in oc.list_projects()
    report = oc.import_examples("enough", zip_of({"triangle": list(images[labels == 0][:5]),
                                                  "circle": list(images[labels == 1][:5])}))
    assert report["added"] == {"triangle": 5, "circle": 5}


def test_import_of_blank_pictures_says_they_are_blank_and_adds_nothing(shapes):
    images, labels = shapes
    blank = [np.zeros((28, 28))] * 5
    with pytest.raises(ProjectError, match=r"blank pictures are left out: too few in circle \(0 of 5 had a drawing\)"):
        oc.import_examples("blank", zip_of({"triangle": list(images[labels == 0][:5]), "circle": blank}))
    assert "blank" not in oc.list_projects()
    # A few blank ones among enough drawings are left out, and said so in the report.
    report = oc.import_examples("some blank", zip_of({"triangle": list(images[labels == 0][:5]) + blank[:2],
                                                      "circle": list(images[labels == 1][:5])}))
    assert report["added"] == {"triangle": 5, "circle": 5}
    assert [name.split("/")[0] for name in report["skipped_empty"]] == ["triangle", "triangle"]
