"""ImageNet backbones for transfer learning: building, weights found offline, freezing, the feature cache.

Nothing here downloads: every test runs with Keras' ``get_file`` replaced by a stub that fails,
and with ``KERAS_HOME`` and ``VP_HOME`` in temporary folders. The heavier checks use
MobileNetV2 at width 0.35 on 32x32 images, built once for the tests that only look at its layers
(``small_backbone``): each build is about a second of CPU, each first ``predict_on_batch`` another.
"""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format
from keras.src.utils import file_utils

from core.base import array_cache
from core.images import preprocess
from core.nets import backbones
from core.nets.backbones import BACKBONES, WeightsUnavailable

SMALL = "MobileNetV2-0.35"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Empty Keras and app homes, and a ``get_file`` that records what Keras asks for and never downloads."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("VP_HOME", str(tmp_path / "vp"))
    asked = []

    def no_download(fname, origin=None, **kwargs):
        asked.append((fname, origin))
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", no_download)
    return asked


def images(n=6, size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def shared_backbone():
    return backbones.load_backbone(SMALL, 32, "random", seed=0)


@pytest.fixture
def small_backbone(shared_backbone):
    """The module's MobileNetV2-0.35 at 32 px, random weights, every layer trainable as ``load_backbone`` makes it.

    Tests that freeze or unfreeze it give it back with every layer trainable, as a fresh build has them (a
    functional model's ``trainable = True`` does not undo ``unfreeze_top``'s per-layer settings, hence each layer);
    no test here depends on its weights' values, which the unfreeze test's training step moves.
    """
    assert shared_backbone.trainable and all(layer.trainable for layer in shared_backbone.layers)
    yield shared_backbone
    shared_backbone.trainable = True
    for layer in shared_backbone.layers:
        layer.trainable = True


def save_legacy_h5(model, path):
    """Write weights the way Keras' ImageNet files are written (the legacy .h5 layout keras 3 still reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BACKBONES))
def test_every_backbone_builds_with_random_weights_at_its_minimum_size(name):
    spec = BACKBONES[name]
    model = backbones.load_backbone(name, spec.min_size, "random")
    assert model.name == name
    assert model.input_shape == (None, spec.min_size, spec.min_size, 3)
    assert len(model.output_shape) == 4 and model.count_params() > 0
    with pytest.raises(ValueError, match="at least"):
        backbones.load_backbone(name, spec.min_size - 1, "random")


@pytest.mark.parametrize("name,size", [(n, b.min_size) for n, b in BACKBONES.items()]
                         + [("MobileNet-0.25", 128), (SMALL, 96)])
@pytest.mark.slow
def test_a_failed_download_is_the_clear_error_and_asks_for_keras_own_file(offline, name, size):
    spec = BACKBONES[name]
    with pytest.raises(WeightsUnavailable) as err:
        backbones.load_backbone(name, size, "imagenet", allow_download=True)
    # The table's file name and address are exactly what Keras itself asked for.
    assert offline == [(spec.weights_file(size), spec.weights_url(size))]
    message = str(err.value)
    assert message.startswith(f"ImageNet weights for {name} are not on this machine and it cannot download them")
    assert "the download failed: URL fetch failure" in message
    assert spec.weights_file(size) in message


def test_imagenet_without_a_local_file_says_what_to_put_where(offline, tmp_path):
    assert backbones.imagenet_weights("ResNet50") is None
    with pytest.raises(WeightsUnavailable) as err:
        backbones.load_backbone("ResNet50", 32)
    message = str(err.value)
    assert message.startswith("ImageNet weights for ResNet50 are not on this machine and it cannot download them")
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(tmp_path / "keras" / "models") in message and str(tmp_path / "vp" / "weights") in message
    assert "random weights" in message and "CIFAR-10 backbone" in message
    assert offline == []  # downloads are off: Keras was never asked


@pytest.fixture(scope="module")
def two_draws():
    """Two random MobileNetV2-0.35 (seeds 1 and 2), the inputs they are compared on and their outputs on them."""
    saved = backbones.load_backbone(SMALL, 32, "random", seed=1)
    other = backbones.load_backbone(SMALL, 32, "random", seed=2)
    x = backbones.ImageNetPreprocess("tf")(images(2).astype("float32") / 255)
    return saved, x, keras.ops.convert_to_numpy(saved(x)), keras.ops.convert_to_numpy(other(x))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["path", "keras-cache", "vp-home"])
def test_a_weights_file_written_here_loads_to_identical_outputs(tmp_path, where, two_draws):
    saved, x, expected, other = two_draws
    if where == "path":
        file = tmp_path / "mine.weights.h5"
        saved.save_weights(file)
        weights = str(file)
    else:
        folder = tmp_path / "keras" / "models" if where == "keras-cache" else tmp_path / "vp" / "weights"
        file = folder / BACKBONES[SMALL].weights_file(32)
        save_legacy_h5(saved, file)
        assert backbones.imagenet_weights(SMALL, 32) == file
        weights = "imagenet"
    loaded = backbones.load_backbone(SMALL, 32, weights)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), expected)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), saved.get_weights(), strict=True))
    # A freshly drawn backbone differs, so the equality above is the file's doing. Untrained features are
    # tiny (about 1e-11), hence a relative comparison.
    assert not np.allclose(other, expected, rtol=1e-3, atol=0)


def test_a_missing_weights_path_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsUnavailable, match="no weights file at"):
        backbones.load_backbone(SMALL, 32, str(tmp_path / "nothing.weights.h5"))


@pytest.mark.parametrize("name", ["MobileNetV2", "ResNet50", "DenseNet201"])  # modes tf, caffe, torch
def test_the_preprocess_layer_matches_keras_preprocess_input(name):
    spec = BACKBONES[name]
    x = images(3, 8)
    ours = keras.ops.convert_to_numpy(backbones.ImageNetPreprocess(spec.mode)(x.astype("float32") / 255))
    keras_own = spec.preprocess_input(x.astype("float32"))  # a copy: preprocess_input edits arrays in place
    np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("head,head_params", [
    ("report000", 1280 * 128 + 128 + 128 * 10 + 10),
    ("report003", 1280 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10),
])
def test_freeze_base_leaves_only_the_head_trainable(head, head_params, small_backbone):
    backbone = small_backbone
    model = backbones.transfer_model(backbone, 10, 32, head=head)
    assert model.output_shape == (None, 10) and model.get_layer("probs").dtype_policy.compute_dtype == "float32"
    before = backbones.count_params(model)
    assert before["non_trainable"] < backbone.count_params()  # only BatchNorm statistics
    backbones.freeze_base(model)
    counts = backbones.count_params(model)
    assert counts == {"trainable": head_params, "non_trainable": backbone.count_params(),
                      "total": model.count_params()}
    assert counts["total"] == before["total"]


@pytest.mark.slow
def test_unfreeze_top_trains_exactly_the_top_k_layers_but_not_their_batch_norm(small_backbone):
    k = 12
    backbone = small_backbone
    model = backbones.freeze_base(backbones.transfer_model(backbone, 10, 32, head="report000"))
    backbones.unfreeze_top(model, k)
    top = backbone.layers[-k:]
    bn = [layer for layer in top if isinstance(layer, keras.layers.BatchNormalization)]
    assert bn, "the top layers hold a BatchNormalization, or this test checks nothing about them"
    expected = {id(w) for layer in top if layer not in bn for w in layer.weights}
    assert expected and {id(w) for w in backbone.trainable_weights} == expected
    head = {id(w) for name in ("dense_128", "probs") for w in model.get_layer(name).weights}
    assert head <= {id(w) for w in model.trainable_weights}

    # One training step in training mode: the head learns; a low conv, the frozen BatchNorm's scale and
    # its ImageNet-style statistics stay (a BatchNorm in training mode would move its variance off 1).
    low_conv = backbone.get_layer("Conv1")
    watched = (model.get_layer("probs").bias, low_conv.kernel, bn[-1].gamma, bn[-1].moving_mean,
               bn[-1].moving_variance)
    before = [np.array(v) for v in watched]
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.train_on_batch(images(8).astype("float32") / 255, np.arange(8) % 10)
    after = [np.array(v) for v in watched]
    assert not np.array_equal(after[0], before[0])
    for old, new in zip(before[1:], after[1:], strict=True):
        np.testing.assert_array_equal(new, old)

    backbones.unfreeze_top(model, 0)
    assert backbone.trainable_weights == []
    with pytest.raises(ValueError):
        backbones.unfreeze_top(model, len(backbone.layers) + 1)


@pytest.mark.slow
def test_drop_last_removes_the_backbones_last_layers(small_backbone):
    backbone = small_backbone
    model = backbones.transfer_model(backbone, 10, 32, drop_last=10, head="report003")
    base = backbones.base_of(model)
    assert base is not backbone and base.name == backbone.name
    assert len(base.layers) == len(backbone.layers) - 10
    assert base.layers[-1].name == backbone.layers[-11].name
    assert base.output_shape == backbone.layers[-11].output.shape
    assert model.get_layer("dense1_1024").kernel.shape[0] == base.output_shape[-1] != backbone.output_shape[-1]
    with pytest.raises(ValueError, match="cannot drop"):
        backbones.transfer_model(backbone, 10, 32, drop_last=len(backbone.layers) - 1)
    with pytest.raises(ValueError, match="was built for"):
        backbones.transfer_model(backbone, 10, 64)


@pytest.mark.slow
def test_a_saved_transfer_model_reloads_in_safe_mode(tmp_path):
    backbone = backbones.load_backbone(SMALL, 64, "random")
    model = backbones.freeze_base(backbones.transfer_model(backbone, 10, 64, head="report000"))
    path = tmp_path / "transfer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = images(2).astype("float32") / 255
    # Called directly, in inference mode as predict runs them (a first predict_on_batch traces a graph: a second).
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-5, atol=1e-6)
    assert loaded.get_layer("upsample").output.shape[1:3] == (64, 64)
    assert loaded.get_layer("preprocess").get_config()["mode"] == "tf"
    assert backbones.base_of(loaded).name == SMALL
    assert backbones.count_params(loaded) == backbones.count_params(model)


@pytest.fixture
def backbone_runs(monkeypatch):
    """Counts how often the feature cache builds (and so runs) a backbone."""
    calls = []
    real = backbones.load_backbone

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(backbones, "load_backbone", counted)
    return calls


@pytest.mark.slow
def test_cached_features_are_computed_once_per_key(backbone_runs):
    x = images(6)
    done = []
    first = backbones.cached_features(SMALL, 32, "random", x, batch_size=4, progress=done.append)
    assert len(backbone_runs) == 1 and done == [4 / 6, 1.0]
    assert first.shape == (6, 1280) and first.dtype == np.float32
    files = list(backbones.features_dir().iterdir())
    assert [f.suffix for f in files] == [".npz"]  # no temporary file left behind
    mtime = files[0].stat().st_mtime_ns

    again = backbones.cached_features(SMALL, 32, "random", x, batch_size=4)
    assert len(backbone_runs) == 1 and files[0].stat().st_mtime_ns == mtime
    np.testing.assert_array_equal(again, first)

    # The cache holds what the frozen backbone computes (random weights are reproducible by their seed).
    direct = backbones.feature_extractor(backbones.load_backbone(SMALL, 32, "random", seed=0), 32)
    np.testing.assert_allclose(first, keras.ops.convert_to_numpy(direct(x.astype("float32") / 255)), rtol=1e-4,
                               atol=1e-9)

    larger = backbones.cached_features(SMALL, 64, "random", x)
    assert len(backbone_runs) == 3 and len(list(backbones.features_dir().iterdir())) == 2
    assert not np.allclose(larger, first, rtol=1e-3, atol=0)

    # Every other part of the key changes the file too (checked without computing anything).
    key = dict(backbone_name=SMALL, input_size=32, weights_id="random", images=x)
    same = backbones.features_path(**key)
    assert same == files[0]
    for change in (dict(drop_last=10), dict(pooling="flatten"), dict(seed=1),
                   dict(images=x[:5]), dict(images=images(6, seed=1)), dict(backbone_name="MobileNet")):
        assert backbones.features_path(**{**key, **change}) != same, change
    assert len(backbone_runs) == 3


@pytest.mark.slow
def test_a_damaged_cache_file_is_recomputed(backbone_runs):
    x = images(3)
    first = backbones.cached_features(SMALL, 32, "random", x)
    path = backbones.features_path(SMALL, 32, "random", x)
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    np.testing.assert_array_equal(backbones.cached_features(SMALL, 32, "random", x), first)
    assert len(backbone_runs) == 2
    np.testing.assert_array_equal(array_cache.read(path)["features"], first)  # a whole copy in its place


@pytest.mark.slow
def test_features_are_computed_again_when_their_recipe_changes(backbone_runs, monkeypatch):
    """The code that makes the features is part of their key: pixels scaled another way are new features."""
    x = images(3)
    first = backbones.cached_features(SMALL, 32, "random", x)

    def scale_pixels(pixels):  # a changed recipe: pixels in [-1, 1]
        return np.asarray(pixels, np.float32) / 127.5 - 1.0

    monkeypatch.setattr(preprocess, "scale_pixels", scale_pixels)
    second = backbones.cached_features(SMALL, 32, "random", x)
    assert len(backbone_runs) == 2 and not np.allclose(first, second, rtol=1e-3, atol=0)


def test_cached_imagenet_features_need_the_weights_file(backbone_runs):
    with pytest.raises(WeightsUnavailable, match="not on this machine"):
        backbones.cached_features(SMALL, 32, "imagenet", images(2))
    assert backbone_runs == []


def test_feature_head_fits_cached_features():
    head = backbones.feature_head(1280, 10, "report003")
    assert head.output_shape == (None, 10)
    assert backbones.count_params(head)["trainable"] == (
        1280 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10)
