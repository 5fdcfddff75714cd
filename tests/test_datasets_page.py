"""The Data sets page: quick from the shipped overviews, and every figure on it true."""

import base64
import hashlib
import json

import numpy as np
import pytest

from core.data import datasets, previews, tiny_download, tiny_imagenet
from core.lab import tiny_presets
from core.nets import registry
from tests.pages import open_page
from tests.tiny_folder import N_TRAIN, N_VAL, WNIDS, make_folder, use_data_dir, zipped


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


@pytest.mark.slow
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


def bars(trace: dict) -> np.ndarray:
    """A plotly bar trace's heights, as the browser gets them (numbers packed as base64)."""
    y = trace["y"]
    return np.frombuffer(base64.b64decode(y["bdata"]), y["dtype"]) if isinstance(y, dict) else np.asarray(y)


def tiny_imagenet_page():
    """The page switched to tiny-ImageNet."""
    return show(tiny_imagenet.NAME)


def test_tiny_imagenet_is_previewed_by_class_name_with_its_balance(run_store, tmp_path, monkeypatch):
    make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    at = tiny_imagenet_page()
    assert not at.error, [e.value for e in at.error]
    text = words(at)
    assert f"{N_TRAIN} random training images of each class, one row per class: goldfish, European fire " \
           "salamander, bullfrog" in text  # the names from words.txt, not the wnids
    assert f"{N_TRAIN} training images a class: balanced enough" in text
    assert f"{3 * N_VAL} test images of 32 x 32 x 3 pixels, 3 classes" in text
    train, test = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert train["x"] == ["goldfish", "European fire salamander", "bullfrog"]
    assert bars(train).tolist() == [N_TRAIN] * 3 and bars(test).tolist() == [N_VAL] * 3
    assert not [b for b in at.button if b.key == "tiny_download"]
    # Reports 003 and 001's presets, beside the report's figures, on the classes the teacher picks
    (launch,) = [b for b in at.button if b.key == "tiny_launch"]
    assert not launch.disabled
    assert at.multiselect(key="tiny_classes_report003").value == list(WNIDS[:3])  # the first five, of three here
    table = next(d.value for d in at.dataframe if "report 003's table" in d.value.columns)
    assert table["report 003's table"].tolist() == ["51.6%", "31.2%", "61.5%", "77.2%", "75.2%"]
    assert "In report 003's table, the best is the Report 003 model 4 at 77.2%." in text  # then what the runs say


@pytest.mark.slow
def test_tiny_imagenet_presets_launch_on_the_classes_and_side_picked(run_store, tmp_path, monkeypatch, fake_engine):
    make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    at = tiny_imagenet_page()
    at.multiselect(key="tiny_classes_report003").set_value([WNIDS[2], WNIDS[0]])
    at.radio(key="tiny_side").set_value(64)
    at = next(b for b in at.run().button if b.key == "tiny_launch").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [r.model for r in fake_engine] == list(tiny_presets.REPORT_003_TABLE)
    assert {(r.params["classes"], r.params["side"]) for r in fake_engine} == {(str((WNIDS[2], WNIDS[0])), "64")}


def test_tiny_imagenet_absent_offline_one_sentence_says_where_to_put_it(run_store, tmp_path, monkeypatch):
    use_data_dir(tmp_path, monkeypatch)
    monkeypatch.setattr(tiny_imagenet, "DOWNLOAD_URL", "http://127.0.0.1:9/tiny-imagenet-200.zip")  # nobody there
    at = tiny_imagenet_page()
    assert not at.error and not at.exception
    (info,) = at.info
    assert info.value == tiny_imagenet.where_to_put_it() and str(tmp_path / "tiny-imagenet-200") in info.value
    assert not [b for b in at.button if b.key == "tiny_download"]  # offline: no download offered
    (launch,) = [b for b in at.button if b.key == "tiny_launch"]  # the presets show, greyed out, and say why
    assert launch.disabled and "Greyed out until the folder is here" in words(at)


def test_tiny_imagenet_absent_online_downloads_and_previews(run_store, tmp_path, monkeypatch, http_folder):
    www, base = http_folder
    archive = zipped(make_folder(tmp_path / "made"), www / "tiny-imagenet-200.zip")
    data = tmp_path / "data"
    data.mkdir()
    use_data_dir(data, monkeypatch)
    monkeypatch.setattr(tiny_imagenet, "DOWNLOAD_URL", f"{base}/tiny-imagenet-200.zip")
    monkeypatch.setattr(tiny_download, "MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    at = tiny_imagenet_page()
    (button,) = [b for b in at.button if b.key == "tiny_download"]
    at = button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert (data / "tiny-imagenet-200" / "wnids.txt").is_file()
    assert "one row per class: goldfish, European fire salamander, bullfrog" in words(at)


def test_a_tiny_imagenet_download_not_the_data_set_is_refused(run_store, tmp_path, monkeypatch, http_folder):
    www, base = http_folder
    zipped(make_folder(tmp_path / "made"), www / "tiny-imagenet-200.zip")
    data = tmp_path / "data"
    data.mkdir()
    use_data_dir(data, monkeypatch)
    monkeypatch.setattr(tiny_imagenet, "DOWNLOAD_URL", f"{base}/tiny-imagenet-200.zip")  # the published md5: no match
    at = tiny_imagenet_page()
    (button,) = [b for b in at.button if b.key == "tiny_download"]
    at = button.click().run()
    assert any("Not downloaded" in e.value and "md5" in e.value for e in at.error)
    assert list(data.iterdir()) == []
