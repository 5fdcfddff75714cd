"""tiny-ImageNet-200 read from its standard folder (issue 29): a small folder generated in exactly that layout, and
one broken copy per error a teacher's download can have. Nothing downloads."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket

import numpy as np
import pytest

from bench.harness import command_line
from core.data import datasets, tiny_download, tiny_imagenet
from tests import busy
from tests.needs import needs_data
from tests.tiny_folder import N_TRAIN, N_VAL, WNIDS, make_folder, photo, use_data_dir, zipped


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """``VP_DATA_DIR/tiny-imagenet-200`` in the standard layout (``make_folder``)."""
    root = make_folder(tmp_path)
    use_data_dir(tmp_path, monkeypatch)
    return root


def test_the_standard_folder_reads_as_32x32_photos_with_val_as_the_test_set(folder):
    (x_train, y_train), (x_test, y_test) = datasets.load_dataset("tiny-imagenet")
    assert x_train.shape == (3 * N_TRAIN, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (3 * N_VAL, 32, 32, 3)
    assert np.bincount(y_train).tolist() == [N_TRAIN] * 3 and np.bincount(y_test).tolist() == [N_VAL] * 3
    for x, y in ((x_train, y_train), (x_test, y_test)):  # each photo's colour is its class's: labels follow files
        strongest = x.reshape(len(x), -1, 3).mean(1).argmax(1)
        gray = x.reshape(len(x), -1, 3).std(2).mean(1) < 1
        assert (strongest[~gray] == y[~gray]).all()
    assert gray_count(x_train) == 1  # the gray photo of class 0 became RGB, as the set has a few
    spec = datasets.get_dataset("tiny-imagenet")
    assert spec.classes == ("goldfish", "European fire salamander", "bullfrog")  # words.txt's first names
    assert spec.image_shape == (32, 32, 3) and spec.n_train == 3 * N_TRAIN and not spec.drawings


def gray_count(x):
    return int((x.reshape(len(x), -1, 3).std(2).mean(1) < 1).sum())


def test_64_pixels_and_a_subset_of_classes_labelled_in_the_order_asked(folder):
    (x_train, y_train), (x_test, y_test) = tiny_imagenet.load(folder, classes=(WNIDS[2], WNIDS[0]), side=64)
    assert x_train.shape == (2 * N_TRAIN, 64, 64, 3) and x_test.shape == (2 * N_VAL, 64, 64, 3)
    blue = x_train[y_train == 0].reshape(-1, 3).mean(0)
    assert blue.argmax() == 2  # label 0 is the third wnid, the blue photos
    with pytest.raises(datasets.DataError, match="n00000000 not among"):
        tiny_imagenet.load(folder, classes=("n00000000",))


def test_decoded_arrays_are_kept_and_read_back_without_decoding(folder, monkeypatch):
    first = tiny_imagenet.load(folder)
    monkeypatch.setattr(tiny_imagenet, "decode", lambda *a: pytest.fail("decoded again"))
    again = tiny_imagenet.load(folder)
    assert all(np.array_equal(a, b) for a, b in zip([*first[0], *first[1]], [*again[0], *again[1]]))
    photo(next((folder / "train" / WNIDS[1] / "images").iterdir()), (1, 2, 3), side=63)  # a changed file: a new key
    with pytest.raises(pytest.fail.Exception, match="decoded again"):
        tiny_imagenet.load(folder)


def test_no_folder_says_where_to_put_it_and_keeps_the_standard_shape(tmp_path, monkeypatch):
    monkeypatch.setenv("VP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(tiny_imagenet.Path, "home", lambda: tmp_path / "no-home")
    with pytest.raises(datasets.DataError, match=r"unzip .*tiny-imagenet-200.zip.* so that .*wnids.txt exists"):
        datasets.load_dataset("tiny-imagenet")
    spec = datasets.get_dataset("tiny-imagenet")  # its networks can be built and listed without the folder
    assert len(spec.classes) == 200 and spec.n_train == 100_000


def drop_wnids(root):
    (root / "wnids.txt").unlink()


def empty_class(root):
    shutil.rmtree(root / "train" / WNIDS[1] / "images")


def unknown_val_class(root):
    path = root / "val" / "val_annotations.txt"
    path.write_text(path.read_text().replace(WNIDS[2], "n12345678", 1))


def missing_val_photo(root):
    next((root / "val" / "images").iterdir()).unlink()


def no_annotations(root):
    (root / "val" / "val_annotations.txt").unlink()


def broken_jpeg(root):
    next((root / "train" / WNIDS[0] / "images").iterdir()).write_bytes(b"\xff\xd8 not a photo")


def repeated_wnid(root):
    (root / "wnids.txt").write_text("\n".join((*WNIDS, WNIDS[0])))


@pytest.mark.parametrize("damage, words", [
    (drop_wnids, "has no wnids.txt"),
    (repeated_wnid, "must list each class id once"),
    (empty_class, f"class {WNIDS[1]} has no training photos"),
    (unknown_val_class, "line 5 names no class of wnids.txt"),
    (missing_val_photo, "val_annotations.txt line 1 names val_0.JPEG, which is not in"),
    (no_annotations, "has no val_annotations.txt"),
    (broken_jpeg, "is not a readable photo"),
])
def test_a_damaged_folder_is_one_error_naming_what_is_wrong(folder, damage, words):
    damage(folder)
    tiny_imagenet._checked.cache_clear()
    with pytest.raises(datasets.DataError, match=words):
        datasets.load_dataset("tiny-imagenet")


def core_cli(home, data, *args: str) -> command_line.Result:
    return command_line.cli(*args, env={"VP_HOME": str(home), "VP_DATA_DIR": str(data)})


@pytest.mark.slow
def test_the_command_line_says_where_to_put_a_missing_folder_before_loading_tensorflow(tmp_path):
    out = core_cli(tmp_path / "home", tmp_path, "run", "--model", "tiny_vgg", "--dataset", "tiny-imagenet")
    assert out.returncode == 2, out.stderr
    assert "tiny-ImageNet-200 is not on this machine" in out.stderr and "tiny-imagenet-200" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.seconds < busy.stretched(60)  # said before TensorFlow's import (5-10 s alone on a quiet machine)


@pytest.mark.slow
def test_a_run_on_tiny_imagenet_trains_on_the_engine_and_is_scored_on_val(folder, tmp_path):
    out = core_cli(tmp_path / "home", folder.parent, "run", "--model", "tiny_vgg", "--dataset", "tiny-imagenet",
                   "--epochs", "1", "--batch-size", "4", "--val-size", "4", "--no-augment")
    assert out.returncode == 0, out.stderr[-2000:]
    run = json.loads(out.stdout.strip().splitlines()[-1])
    assert run["status"] == "FINISHED" and run["model"] == "tiny_vgg"
    assert 0 <= run["test_accuracy"] <= 1 and run["config"]["val_size"] == "4"


@pytest.mark.slow
@needs_data("mnist")
def test_the_command_line_refuses_classes_for_another_data_set_and_a_side_not_offered(tmp_path):
    out = core_cli(tmp_path / "home", datasets.data_dir(), "run", "--model", "net002", "--classes",
                   "n01443537,n01629819")
    assert out.returncode == 2 and "classes and side are tiny-ImageNet's" in out.stderr, out.stderr
    out = core_cli(tmp_path / "home", tmp_path, "run", "--model", "tiny_vgg", "--side", "48")
    assert out.returncode == 2 and "invalid choice: 48" in out.stderr


def test_the_download_streams_checks_and_unpacks_the_zip_into_the_data_folder(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    archive = zipped(make_folder(tmp_path / "made"), www / "tiny-imagenet-200.zip")
    data = tmp_path / "data"
    use_data_dir(data, monkeypatch)
    assert tiny_download.reachable(f"{base}/tiny-imagenet-200.zip")
    seen = []
    folder = tiny_download.download(f"{base}/tiny-imagenet-200.zip", md5=hashlib.md5(archive.read_bytes()).hexdigest(),
                                    progress=lambda done, total: seen.append((done, total)))
    assert folder == data / "tiny-imagenet-200" and tiny_imagenet.find() == folder
    assert seen[-1] == (archive.stat().st_size, archive.stat().st_size)  # the bar reaches the end
    assert sorted(p.name for p in data.iterdir()) == ["tiny-imagenet-200"]  # no zip or work folder left
    assert datasets.get_dataset("tiny-imagenet").classes == ("goldfish", "European fire salamander", "bullfrog")


def test_a_corrupt_or_wrong_download_is_refused_and_leaves_nothing(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    good = zipped(make_folder(tmp_path / "made"), www / "tiny-imagenet-200.zip")
    md5 = hashlib.md5(good.read_bytes()).hexdigest()
    corrupt = www / "corrupt.zip"
    corrupt.write_bytes(good.read_bytes()[: good.stat().st_size // 2] + b"\0" * (good.stat().st_size // 2 + 1))
    shutil.rmtree(tmp_path / "made" / "tiny-imagenet-200" / "val")
    partial = zipped(tmp_path / "made" / "tiny-imagenet-200", www / "partial.zip")
    data = tmp_path / "data"
    use_data_dir(data, monkeypatch)
    with pytest.raises(datasets.DataError, match=f"its md5 is .*, the published one {md5}"):
        tiny_download.download(f"{base}/corrupt.zip", md5=md5)
    with pytest.raises(datasets.DataError, match="failed: HTTP Error 404"):
        tiny_download.download(f"{base}/missing.zip", md5=md5)
    with pytest.raises(datasets.DataError, match="has no val_annotations.txt"):  # its own md5: unpacked, then checked
        tiny_download.download(f"{base}/partial.zip", md5=hashlib.md5(partial.read_bytes()).hexdigest())
    assert list(data.iterdir()) == [] and tiny_imagenet.find() is None


def test_an_offline_machine_is_said_offline_quickly(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert not tiny_download.reachable(f"http://127.0.0.1:{port}/tiny-imagenet-200.zip")
    assert not tiny_download.reachable("not a url")


@pytest.mark.slow
def test_report_003_s_preset_trains_on_the_engine_on_the_classes_and_side_picked(folder, engine_home, monkeypatch):
    from core.lab import engine, runs, tiny_presets
    from core.nets import registry

    configs = tiny_presets.configs("report003", "quick", classes=(WNIDS[2], WNIDS[0]), side=64, epochs=1,
                                   augment=False)
    assert [c.model for c in configs] == list(tiny_presets.REPORT_003_TABLE)
    run = engine.launch(configs[0], tiny_presets.LAB, varied=("model",))  # model 1, the smallest: a short run
    run = runs.wait(run.run_id, timeout_s=busy.stretched(300), poll_s=0.5)
    assert run.status == "FINISHED", run.error
    assert run.params["classes"] == str((WNIDS[2], WNIDS[0])) and run.params["side"] == "64"
    assert 0 <= run.metrics["test_accuracy"] <= 1
    model = registry.load(f"run:{run.run_id}")
    assert model.input_shape == (None, 64, 64, 3) and model.output_shape == (None, 2)  # the classes picked
    (row,) = [r for r in tiny_presets.beside_report("report003") if r["run"] is not None]
    assert row["model"] == "tiny003_model1" and row["ours"] == run.metrics["test_accuracy"]
    assert f"of 1 network run, the best is the Report 003 model 1 at {run.metrics['test_accuracy']:.1%}" in \
        tiny_presets.against_report("report003", tiny_presets.beside_report("report003"))
