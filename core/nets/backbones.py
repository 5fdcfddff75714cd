"""Transfer learning: ImageNet backbones from ``keras.applications`` re-used for new images.

The course reports' recipe: take a network trained on ImageNet, cut off its
classifier (``include_top=False``), upsample the small CIFAR-10 photos to a
size the network likes, apply the network's own input preprocessing, and
train a new head on top. First the backbone is frozen (``freeze_base``) and
only the head learns; then the top layers may be unfrozen (``unfreeze_top``)
and fine-tuned at a low learning rate. Report 000 flattened the feature map
into Dense 128 (after dropping the backbone's last 10 layers); report 003
pooled it into Dense 1024-1024-512.

ImageNet weights are files Keras downloads once into ``~/.keras/models``.
Nothing here downloads unless asked to (``allow_download``): a machine without
internet gets one plain error saying which file to put where, and random
weights (the control: the same architecture, nothing learned) always work.

A frozen backbone computes the same features every epoch, so
``cached_features`` computes them once and keeps them on disk; a new head on
cached features (``feature_head``) trains in seconds.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from core.base import array_cache, paths, settings
from core.base.files import file_digest
from core.images import preprocess

INPUT_SIZES = (32, 96, 128, 224)  # the sizes pages offer: CIFAR-10's own, and up to ImageNet's
# How each head turns the backbone's feature map into a vector: report 000 flattened it, report 003 pooled it.
HEADS = {"report000": "flatten", "report003": "avg"}
CIFAR_BACKBONE = "the project's own CIFAR-10 backbone"


class WeightsUnavailable(RuntimeError):
    """ImageNet weights are not on this machine and cannot be downloaded, or a weights file does not load."""


@dataclass(frozen=True)
class Backbone:
    """One ``keras.applications`` network: how to build it, prepare its input and find its ImageNet weights.

    ``mode`` is the preprocessing ``preprocess_input`` applies ("tf": to [-1, 1]; "torch": ImageNet mean and
    std; "caffe": BGR minus ImageNet's mean pixel). ``weights_file`` is the name Keras caches the
    ``include_top=False`` weights under; MobileNets have one file per input size in ``sizes`` (``{rows}``),
    and Keras uses the 224 one for any other size, as the convolutions' weights fit any size.
    """

    name: str
    build: Callable[..., keras.Model]
    preprocess_input: Callable[..., np.ndarray]
    mode: str
    min_size: int
    weights_file_pattern: str
    url: str
    sizes: tuple[int, ...] = ()
    kwargs: dict = field(default_factory=dict, hash=False)

    def weights_file(self, input_size: int = 224) -> str:
        """The file name of the no-top ImageNet weights Keras loads for ``input_size``."""
        rows = input_size if input_size in self.sizes else 224
        return self.weights_file_pattern.format(rows=rows)

    def weights_url(self, input_size: int = 224) -> str:
        """Where Keras downloads that file from."""
        return self.url + self.weights_file(input_size)


_APPS = keras.applications
_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
# File names and addresses as keras 3.15's keras/src/applications/*.py build them (tests check the names).
BACKBONES: dict[str, Backbone] = {
    b.name: b
    for b in (
        Backbone("MobileNet", _APPS.MobileNet, _APPS.mobilenet.preprocess_input, "tf", 32,
                 "mobilenet_1_0_{rows}_tf_no_top.h5", _KERAS_WEIGHTS + "mobilenet/", (128, 160, 192, 224)),
        Backbone("MobileNet-0.25", _APPS.MobileNet, _APPS.mobilenet.preprocess_input, "tf", 32,
                 "mobilenet_2_5_{rows}_tf_no_top.h5", _KERAS_WEIGHTS + "mobilenet/", (128, 160, 192, 224),
                 {"alpha": 0.25}),
        Backbone("MobileNetV2", _APPS.MobileNetV2, _APPS.mobilenet_v2.preprocess_input, "tf", 32,
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
                 _KERAS_WEIGHTS + "mobilenet_v2/", (96, 128, 160, 192, 224)),
        Backbone("MobileNetV2-0.35", _APPS.MobileNetV2, _APPS.mobilenet_v2.preprocess_input, "tf", 32,
                 "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_{rows}_no_top.h5",
                 _KERAS_WEIGHTS + "mobilenet_v2/", (96, 128, 160, 192, 224), {"alpha": 0.35}),
        Backbone("ResNet50", _APPS.ResNet50, _APPS.resnet50.preprocess_input, "caffe", 32,
                 "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", _KERAS_WEIGHTS + "resnet/"),
        Backbone("DenseNet201", _APPS.DenseNet201, _APPS.densenet.preprocess_input, "torch", 32,
                 "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", _KERAS_WEIGHTS + "densenet/"),
        Backbone("VGG19", _APPS.VGG19, _APPS.vgg19.preprocess_input, "caffe", 32,
                 "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", _KERAS_WEIGHTS + "vgg19/"),
    )
}


def get_backbone(name: str) -> Backbone:
    """The table entry of backbone ``name``."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}") from None


# ---------------------------------------------------------------------------------------------------------
# Preprocessing as a layer
# ---------------------------------------------------------------------------------------------------------

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, as fractions of 255 ("torch" mode)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # the mean pixel, BGR, 0-255 ("caffe" mode)


@keras.saving.register_keras_serializable(package="vision_playground")
class ImageNetPreprocess(layers.Layer):
    """Keras' ``preprocess_input`` as a layer, for pixels in [0, 1] as the project's models take them.

    A layer rather than a ``Lambda`` so that a saved model loads with ``safe_mode=True``
    (import ``core.nets.backbones`` first: that registers the layer).
    """

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("tf", "torch", "caffe"):
            raise ValueError(f"unknown preprocessing mode {mode!r}; one of tf, torch, caffe")
        self.mode = mode

    def call(self, x):
        if self.mode == "tf":
            return x * 2.0 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(IMAGENET_MEAN, dtype=x.dtype)
            std = ops.convert_to_tensor(IMAGENET_STD, dtype=x.dtype)
            return (x - mean) / std
        # Caffe-trained weights (ResNet50, VGG) expect BGR in 0-255 with the mean pixel subtracted.
        return ops.flip(x, axis=-1) * 255.0 - ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


# ---------------------------------------------------------------------------------------------------------
# Finding and loading weights
# ---------------------------------------------------------------------------------------------------------


def keras_models_dir() -> Path:
    """Where Keras caches downloaded weights: ``$KERAS_HOME/models``, else ``~/.keras/models``.

    Like Keras, falls back to ``/tmp/.keras`` when the home folder is not writable.
    """
    home = settings.KERAS_HOME.get()
    if not home:
        base = Path("~").expanduser()
        home = base / ".keras" if os.access(base, os.W_OK) else Path("/tmp/.keras")
    return Path(home).expanduser() / "models"


def weights_dir() -> Path:
    """The project's own folder for weights files copied in by hand: ``$VP_HOME/weights``."""
    return paths.vp_home() / "weights"


def imagenet_weights(name: str, input_size: int = 224) -> Path | None:
    """The local no-top ImageNet weights file of backbone ``name``, or None. Never downloads.

    Looks in the Keras cache, then in ``$VP_HOME/weights``; for a MobileNet, the file for
    ``input_size`` first, then the 224 one.
    """
    spec = get_backbone(name)
    files = dict.fromkeys((spec.weights_file(input_size), spec.weights_file(224)))
    for folder in (keras_models_dir(), weights_dir()):
        for file in files:
            if (folder / file).is_file():
                return folder / file
    return None


def missing_weights_message(name: str, input_size: int = 224) -> str | None:
    """None when backbone ``name``'s ImageNet weights are on this machine, else what to do about it."""
    if imagenet_weights(name, input_size) is not None:
        return None
    return _missing_message(get_backbone(name), input_size, "not downloaded yet; a run will try to, with internet")


def _missing_message(spec: Backbone, input_size: int, why: str) -> str:
    return (f"ImageNet weights for {spec.name} are not on this machine and it cannot download them ({why}): "
            f"put the file {spec.weights_file(input_size)} (from {spec.weights_url(input_size)}) in "
            f"{keras_models_dir()} or in {weights_dir()}, or choose random weights or {CIFAR_BACKBONE}.")


def _build(spec: Backbone, input_size: int, weights: str | None) -> keras.Model:
    # The model is named after its table entry, so transfer_model knows which preprocessing it needs.
    return spec.build(include_top=False, weights=weights, input_shape=(input_size, input_size, 3),
                      name=spec.name, **spec.kwargs)


def _load_file(model: keras.Model, path: Path) -> keras.Model:
    try:
        model.load_weights(path)  # Keras reads both its legacy .h5 files and .weights.h5
    except Exception as e:  # noqa: BLE001 - a damaged or mismatched file means the same to the user
        raise WeightsUnavailable(f"{path} does not load into {model.name}: {e}") from e
    return model


def load_backbone(name: str, input_size: int = 224, weights: str | Path = "imagenet",
                  allow_download: bool = False, seed: int | None = None) -> keras.Model:
    """Backbone ``name`` without its classifier, for ``input_size`` x ``input_size`` RGB images.

    ``weights``: "imagenet" (the local file, else a Keras download when ``allow_download``, else
    ``WeightsUnavailable``), "random" (the untrained control; ``seed`` makes it reproducible, through
    ``keras.utils.set_random_seed``) or the path of a ``.h5`` / ``.weights.h5`` file.
    """
    spec = get_backbone(name)
    if input_size < spec.min_size:
        raise ValueError(f"{name} needs images of at least {spec.min_size}x{spec.min_size}, not {input_size}")
    if weights == "random":
        if seed is not None:
            keras.utils.set_random_seed(seed)
        return _build(spec, input_size, None)
    if weights != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(f"no weights file at {path}")
        return _load_file(_build(spec, input_size, None), path)
    local = imagenet_weights(name, input_size)
    if local is not None:
        return _load_file(_build(spec, input_size, None), local)
    if not allow_download:
        raise WeightsUnavailable(_missing_message(spec, input_size, "downloads are off"))
    try:
        with warnings.catch_warnings():  # a MobileNet at a size with no file of its own takes the 224 one
            warnings.simplefilter("ignore", UserWarning)
            return _build(spec, input_size, "imagenet")
    except Exception as e:  # noqa: BLE001 - no internet, a proxy, a bad hash: the user's remedy is the same
        raise WeightsUnavailable(_missing_message(spec, input_size, f"the download failed: {e}")) from e


# ---------------------------------------------------------------------------------------------------------
# The transfer model
# ---------------------------------------------------------------------------------------------------------


def drop_top_layers(backbone: keras.Model, drop_last: int) -> keras.Model:
    """The backbone without its last ``drop_last`` layers (sharing their weights), as report 000 cut 10."""
    if drop_last == 0:
        return backbone
    if not 0 < drop_last < len(backbone.layers) - 1:
        raise ValueError(f"{backbone.name} has {len(backbone.layers)} layers; cannot drop {drop_last}")
    return keras.Model(backbone.inputs, backbone.layers[-1 - drop_last].output, name=backbone.name)


def _body(inputs, backbone: keras.Model, input_size: int, source_size: int, drop_last: int):
    """Upsample, preprocess as the backbone was trained, run the backbone: the feature map."""
    spec = get_backbone(backbone.name)
    if backbone.input_shape[1:3] != (input_size, input_size):
        raise ValueError(f"{backbone.name} was built for {backbone.input_shape[1:3]} images, not {input_size}: "
                         f"load it with load_backbone({backbone.name!r}, {input_size}, ...)")
    x = inputs
    if input_size != source_size:
        x = layers.Resizing(input_size, input_size, interpolation="bilinear", name="upsample")(x)
    x = ImageNetPreprocess(spec.mode, name="preprocess")(x)
    # Keras 3 passes fit's training=True into nested models whatever they were called with, so it is the
    # BatchNormalization layers' trainable=False (freeze_base, unfreeze_top) that keeps them in inference mode.
    return drop_top_layers(backbone, drop_last)(x)


def _pool(x, pooling: str):
    if pooling == "flatten":
        return layers.Flatten(name="flatten")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="global_pool")(x)
    raise ValueError(f"unknown pooling {pooling!r}; flatten or avg")


def _dense_head(x, head: str, num_classes: int, dropout: float):
    if head == "report000":
        x = layers.Dense(128, activation="relu", name="dense_128")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
    elif head == "report003":
        for i, units in enumerate((1024, 1024, 512), start=1):
            x = layers.Dense(units, activation="relu", name=f"dense{i}_{units}")(x)
    else:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(x)


def feature_extractor(backbone: keras.Model, input_size: int, source_size: int = 32, drop_last: int = 0,
                      pooling: str = "avg") -> keras.Model:
    """Images (``source_size``, [0, 1] pixels) to the backbone's pooled ("avg") or flattened features."""
    inputs = keras.Input((source_size, source_size, 3), name="image")
    x = _body(inputs, backbone, input_size, source_size, drop_last)
    return keras.Model(inputs, _pool(x, pooling), name=f"features_{backbone.name}")


def transfer_model(backbone: keras.Model, num_classes: int, input_size: int, source_size: int = 32,
                   drop_last: int = 0, head: str = "report003", dropout: float = 0.5) -> keras.Model:
    """A classifier for ``source_size`` images on a backbone from ``load_backbone`` (built for ``input_size``).

    Takes [0, 1] pixels like the project's CIFAR models and returns softmax probabilities ("probs").
    ``head``: "report000" (Flatten, Dense 128, Dropout ``dropout``) or "report003" (global average pooling,
    Dense 1024-1024-512). The backbone is left as it is: ``freeze_base`` it to train the head alone.
    """
    inputs = keras.Input((source_size, source_size, 3), name="image")
    x = _body(inputs, backbone, input_size, source_size, drop_last)
    x = _pool(x, HEADS.get(head, "avg"))
    return keras.Model(inputs, _dense_head(x, head, num_classes, dropout), name=f"transfer_{backbone.name}")


def feature_head(num_features: int, num_classes: int, head: str = "report003", dropout: float = 0.5) -> keras.Model:
    """The head of ``transfer_model`` alone, on cached features (flattened for report000, pooled for 003)."""
    inputs = keras.Input((num_features,), name="features")
    return keras.Model(inputs, _dense_head(inputs, head, num_classes, dropout), name=f"head_{head}")


# ---------------------------------------------------------------------------------------------------------
# Freezing and fine-tuning
# ---------------------------------------------------------------------------------------------------------


def base_of(model: keras.Model) -> keras.Model:
    """The backbone inside a transfer model (or the backbone itself)."""
    if model.name in BACKBONES:
        return model
    for layer in model.layers:
        if isinstance(layer, keras.Model) and layer.name in BACKBONES:
            return layer
    raise ValueError(f"{model.name} holds none of the backbones {', '.join(BACKBONES)}")


def freeze_base(model_or_backbone: keras.Model) -> keras.Model:
    """Freeze the backbone: only the head learns. Returns the model given (compile it afterwards)."""
    base_of(model_or_backbone).trainable = False
    return model_or_backbone


def unfreeze_top(model_or_backbone: keras.Model, k: int) -> keras.Model:
    """Fine-tuning: make the backbone's top ``k`` layers trainable, all others frozen; compile afterwards.

    BatchNormalization layers stay frozen even among the top ``k``, as Keras' fine-tuning guide says:
    a frozen BatchNormalization runs in inference mode, with the ImageNet statistics, and a small new
    data set's batches would otherwise overwrite them and wreck what the backbone learned.
    """
    unfreeze_layers(base_of(model_or_backbone), k)
    return model_or_backbone


def unfreeze_layers(base: keras.Model, k: int) -> keras.Model:
    """``unfreeze_top`` for any base model (an ImageNet backbone or the project's own CIFAR-10 one)."""
    if not 0 <= k <= len(base.layers):
        raise ValueError(f"{base.name} has {len(base.layers)} layers; cannot unfreeze the top {k}")
    base.trainable = True
    first = len(base.layers) - k
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= first and not isinstance(layer, layers.BatchNormalization)
    return base


def count_params(model: keras.Model) -> dict[str, int]:
    """The model's trainable, non-trainable and total parameter counts (BatchNorm statistics are non-trainable)."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {"trainable": trainable, "non_trainable": non_trainable, "total": trainable + non_trainable}


# ---------------------------------------------------------------------------------------------------------
# The feature cache
# ---------------------------------------------------------------------------------------------------------


FEATURES = "features"  # their folder under the cache


def features_dir() -> Path:
    """Where cached features live: ``<cache>/features`` (safe to delete; they are recomputed)."""
    return paths.cache_dir() / FEATURES


def _weights_identity(name: str, input_size: int, weights: str | Path, seed: int) -> str:
    """What the backbone's weights are: the seed of random ones, else the sha256 of the weights file."""
    if weights == "random":
        return f"random-seed{seed}"
    path = imagenet_weights(name, input_size) if weights == "imagenet" else Path(weights).expanduser()
    if path is None:
        raise WeightsUnavailable(_missing_message(get_backbone(name), input_size, "downloads are off"))
    if not path.is_file():
        raise WeightsUnavailable(f"no weights file at {path}")
    return f"sha256-{file_digest(path)}"


def features_entry(backbone_name: str, input_size: int, weights_id: str | Path, images: np.ndarray,
                   drop_last: int = 0, pooling: str = "avg", seed: int = 0) -> tuple[str, list]:
    """The cache name and key parts of these features (``core.base.array_cache``): the backbone and how it is
    cut, its weights' content, the images themselves and the code that builds and runs it (this module)."""
    name = f"{FEATURES}/{backbone_name}-{input_size}px-{pooling}-drop{drop_last}"
    weights = _weights_identity(backbone_name, input_size, weights_id, seed)
    return name, [weights, images, *array_cache.code(sys.modules[__name__], preprocess.scale_pixels)]


def features_path(backbone_name: str, input_size: int, weights_id: str | Path, images: np.ndarray,
                  drop_last: int = 0, pooling: str = "avg", seed: int = 0) -> Path:
    """The cache file for these features; its name holds a hash of everything they depend on."""
    return array_cache.path_for(*features_entry(backbone_name, input_size, weights_id, images, drop_last, pooling,
                                                seed))


def cached_features(backbone_name: str, input_size: int, weights_id: str | Path, images: np.ndarray,
                    batch_size: int = 64, drop_last: int = 0, pooling: str = "avg", seed: int = 0,
                    progress: Callable[[float], None] | None = None, allow_download: bool = False) -> np.ndarray:
    """The frozen backbone's features of ``images`` (uint8, N x H x W x 3), float32 N x D, computed once.

    ``weights_id`` is what ``load_backbone`` takes ("imagenet", "random" drawn with ``seed``, or a file). The
    features are kept under ``features_dir()``, keyed by content (``features_entry``). ``progress`` is called
    with the fraction done after each batch.
    """
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be uint8 N x H x W x 3 and square, not {images.dtype} {images.shape}")
    entry = features_entry(backbone_name, input_size, weights_id, images, drop_last, pooling, seed)

    def make_extractor() -> keras.Model:
        backbone = freeze_base(load_backbone(backbone_name, input_size, weights_id, allow_download, seed=seed))
        return feature_extractor(backbone, input_size, images.shape[1], drop_last, pooling)

    return compute_features(entry, images, make_extractor, batch_size, progress)


def compute_features(entry: tuple[str, list], images: np.ndarray, make_extractor: Callable[[], keras.Model],
                     batch_size: int = 64, progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Features of uint8 ``images`` by the model ``make_extractor()`` builds, kept in the array cache as ``entry``
    (its name and key parts; ``core.base.array_cache``).

    The one feature cache: ImageNet backbones (``cached_features``) and the project's own CIFAR
    backbones (``core.training.backbone_transfer``) both go through it.
    """

    def whole(kept: dict[str, np.ndarray]) -> bool:
        features = kept.get("features")
        return features is not None and features.dtype == np.float32 and features.ndim == 2 \
            and len(features) == len(images)

    kept = array_cache.kept(*entry, whole)
    if kept is not None:
        if progress is not None:
            progress(1.0)
        return kept["features"]
    for old in features_dir().glob("*.npy"):  # kept as .npy under keys of their own before
        old.unlink(missing_ok=True)
    extractor = make_extractor()
    features = np.empty((len(images), int(extractor.output.shape[-1])), np.float32)
    for start in range(0, len(images), batch_size):
        batch = preprocess.scale_pixels(images[start:start + batch_size])
        features[start:start + len(batch)] = extractor.predict_on_batch(batch)
        if progress is not None:
            progress(min(start + batch_size, len(images)) / len(images))
    array_cache.keep(*entry, {"features": features})
    return features
