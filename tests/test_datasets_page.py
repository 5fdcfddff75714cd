"""The Data sets page: quick from the shipped overviews, and every figure on it true."""

import numpy as np
import pytest

from core.data import datasets, previews
from core.nets import registry
from tests.pages import open_page


def show(name: str):
    return open_page("datasets", {"datasets_name": name})


def words(at) -> str:
    pictures = [i.caption for element in at.get("image") for i in element.proto.imgs]
    return " ".join([c.value for c in at.caption] + [m.value for m in at.markdown] + pictures)


@pytest.fixture
def sets_unread(monkeypatch):
    """Reading a whole data set fails the test: the page must show the shipped overview."""
    def refuse(name, download=True):
        raise AssertionError(f"{name} was read whole")

    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.mark.parametrize("name", previews.SHIPPED)
def test_the_slow_sets_show_their_shipped_overview_without_reading_the_set(name, run_store, sets_unread):
    at = show(name)
    assert not at.error, [e.value for e in at.error]
    view = previews.shipped(name)
    assert view is not None
    text = words(at)
    assert f"{int(view.test_counts.sum()):,} test images" in text
    assert "10 random training images of each class" in text
    assert len(at.get("image")) >= 1


def test_cifar10_s_figures_agree(run_store):
    text = words(show("cifar10"))
    assert "5,000 training images a class" in text and "From 5,000 to 5,000" not in text
    assert "45,000 training + 5,000 validation images (of the 50,000 training images" in text
    card = registry.card("cifar_resnet")
    took = f"{card['train_seconds'] / 3600:.1f} hours"
    assert text.count(took) == 2 and "two hours" not in text and "min on" not in text


def test_the_greek_preview_says_how_many_it_shows(run_store):
    at = show("greek")
    (_, y), _ = datasets.load_dataset("greek", download=False)
    fewest = int(datasets.class_counts(y, 3).min())
    assert fewest < 10
    assert f"{fewest} random training images of each class" in words(at)


@pytest.mark.slow
@pytest.mark.parametrize("name", previews.SHIPPED)
def test_a_shipped_overview_is_the_set_s_own(name, shared_cache):
    """``python -m core previews`` ran on the set as it is built now: its counts are the set's, its images its own."""
    (x_train, y_train), (_, y_test) = shared_cache(name)
    view = previews.shipped(name)
    assert view is not None, f"run python -m core previews {name}"
    n = len(datasets.get_dataset(name).classes)
    np.testing.assert_array_equal(view.train_counts, datasets.class_counts(y_train, n))
    np.testing.assert_array_equal(view.test_counts, datasets.class_counts(y_test, n))
    assert len(view.x) == previews.PER_CLASS * n
    flat = {bytes(image) for image in x_train[np.isin(y_train, np.unique(view.y))]}
    assert all(bytes(image) in flat for image in view.x)
