"""Backbones re-used for new photos, at a scale a CPU can run (reports 000, 001 and 003).

The reports re-used ImageNet networks for CIFAR-10. No ImageNet weights exist
offline, so the same experiment is run with a backbone the project trained
itself: a ResNet-9 that learnt only CIFAR-10's first five classes (airplane,
automobile, bird, cat, deer; ``cifar5_resnet``), re-used for the other five
(dog, frog, horse, ship, truck), which it has never seen. With few labelled
photos per class the gain over training from scratch is large, and it
shrinks as labels grow: the learning curve the page draws.

Three recipes, as the reports compare them:

- ``scratch``: the backbone's architecture from random weights, trained on the labelled photos;
- ``frozen``: the backbone's features, computed once and cached on disk, and a new head on them
  (a run costs seconds, so trying another head is cheap);
- ``finetune``: that head first, then the top ``unfreeze`` layers trained too, at a learning rate
  10x smaller, with batch normalisation kept in inference mode.

An ImageNet backbone from ``core.nets.backbones`` ("MobileNetV2", ...) can stand in for the project's,
with its weights when they are on this machine, or random weights as the control.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.base import array_cache, paths
from core.base.files import file_digest
from core.data import datasets, tiny_imagenet
from core.images import preprocess
from core.nets import backbones, heads, registry
from core.training import kit, letter_transfer

MODES = ("scratch", "frozen", "finetune")
MODE_TITLES = {"scratch": "from scratch", "frozen": "frozen backbone, new head", "finetune": "fine-tuned"}
LABELS_PER_CLASS = (20, 100, 500, 5000)  # 5000: every training photo of the five new classes
TARGET = "cifar5_target"
OWN_BACKBONES = ("cifar5_resnet", "cifar_resnet")  # the project's own, trained on (part of) CIFAR-10
HEAD_LR = 1e-3  # Adam on cached features, for the reports' deep heads; a single softmax layer takes 10x more
# What the page launches unless the student asks for more: one comparison, two runs a classroom CPU trains quickly.
# With 20 labelled photos per class the backbone's head start is widest (bench_cifar_transfer: frozen 72%, from
# scratch 32%); the whole learning curve (three recipes, up to 5,000 labels) is there to add.
DEFAULT_LABELS = (20,)


def default_modes(backbone: str) -> tuple[str, str]:
    """The default comparison: the frozen backbone against the same network from scratch, or, for an ImageNet
    backbone (never trained from scratch here), against fine-tuning it."""
    return ("frozen", "scratch") if backbone in OWN_BACKBONES else ("frozen", "finetune")


@dataclass
class BackboneConfig:
    """A run of the backbone recipe: which backbone, which recipe, how many labelled photos per class."""

    backbone: str = "cifar5_resnet"  # a project model (OWN_BACKBONES) or a core.nets.backbones name
    target: str = TARGET  # the photos to learn: CIFAR-10's last five classes, tiny-ImageNet or an uploaded set
    classes: tuple[str, ...] | None = None  # tiny-ImageNet only: the classes (wnids) to learn, default all
    mode: str = "frozen"
    labels_per_class: int = 100
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float | None = None  # None: 0.1 (SGD) from scratch, 1e-3 (Adam) for a head, /10 to fine-tune
    weights: str = "imagenet"  # ImageNet backbones only: "imagenet" or "random"
    input_size: int = 32  # ImageNet backbones only: the photos are upsampled to this size
    unfreeze: int = 20  # fine-tuning: how many of the backbone's top layers learn
    drop_last: int = 0  # ImageNet backbones only: layers cut off the backbone's top (report 000 cut 10)
    head: str = "linear"  # "linear" (one softmax layer), or report000 / report003 (core.nets.backbones)
    allow_download: bool = True  # ImageNet weights missing here: try Keras' download (a clear error offline)
    seed: int = 0
    out_dir: str = field(default_factory=lambda: str(paths.trained_dir()))
    command: str = ""

    recipe = "backbone"

    def __post_init__(self) -> None:
        self.validate()

    @property
    def own(self) -> bool:
        return self.backbone in OWN_BACKBONES

    @property
    def model(self) -> str:
        if self.target == TARGET:
            return "cifar5_transfer" if self.backbone == "cifar5_resnet" else f"cifar5_transfer_{self.backbone}"
        return f"{self.target.removeprefix(datasets.UPLOAD_PREFIX).replace('-', '_')}_from_{self.backbone}"

    @property
    def dataset(self) -> str:
        return self.target

    @property
    def lr(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        if self.mode == "scratch":
            return 0.1
        return HEAD_LR * (10 if self.head == "linear" else 1)

    @property
    def finetune_lr(self) -> float:
        """The backbone's own layers learn 10x more slowly than a deep head: they are already good."""
        return (self.learning_rate or HEAD_LR) / 10

    def validate(self) -> None:
        """Refuse, in plain words, a run that cannot work, before anything starts."""
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not self.own and self.backbone not in backbones.BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose one of "
                             f"{', '.join(OWN_BACKBONES + tuple(backbones.BACKBONES))}")
        if not self.own and self.mode == "scratch":
            raise ValueError("'from scratch' trains the project's own ResNet-9; pick cifar5_resnet for it")
        for name in ("labels_per_class", "epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
        if self.target == TARGET and self.labels_per_class > 5000:
            raise ValueError(f"CIFAR-10 has 5,000 training photos per class, not {self.labels_per_class}")
        self._validate_tiny()
        if self.target not in (TARGET, tiny_imagenet.NAME):
            if not self.target.startswith(datasets.UPLOAD_PREFIX):
                raise ValueError(f"the photos to learn are {TARGET}, {tiny_imagenet.NAME} or an uploaded data set, "
                                 f"not {self.target!r}")
            try:
                datasets.get_dataset(self.target)
            except datasets.DataError as e:
                raise ValueError(str(e)) from None
        if self.head not in ("linear", *backbones.HEADS):
            raise ValueError(f"head must be linear, {' or '.join(backbones.HEADS)}, not {self.head!r}")
        if self.unfreeze < 0 or self.drop_last < 0:
            raise ValueError("the layers to unfreeze or to drop cannot be negative")
        if self.drop_last and self.own:
            raise ValueError("dropping layers is for the ImageNet backbones; the project's own keeps all of its own")
        if self.weights not in ("imagenet", "random"):
            raise ValueError(f"weights must be imagenet or random, not {self.weights!r}")
        if self.learning_rate is not None and not (0 < self.learning_rate <= 1):
            raise ValueError(f"the learning rate must be above 0 and at most 1, not {self.learning_rate}")

    def _validate_tiny(self) -> None:
        """tiny-ImageNet's folder is here, and its classes picked are at least two of its own."""
        if self.classes is not None and self.target != tiny_imagenet.NAME:
            raise ValueError("classes are picked from tiny-ImageNet's only")
        if self.target != tiny_imagenet.NAME:
            return
        if tiny_imagenet.find() is None:
            raise ValueError(tiny_imagenet.where_to_put_it().rstrip("."))
        if self.classes is not None:
            self.classes = tuple(self.classes)  # as the run store and a page's multiselect give them: a list
            if len(set(self.classes)) < 2 or len(set(self.classes)) != len(self.classes):
                raise ValueError("pick at least two different classes")
            try:
                tiny_imagenet.n_train(self.classes)
            except datasets.DataError as e:
                raise ValueError(str(e)) from None

    @property
    def class_names(self) -> tuple[str, ...]:
        """The names of the classes learnt, in label order."""
        if self.target == tiny_imagenet.NAME and self.classes is not None:
            return tiny_imagenet.names(self.classes)
        return datasets.get_dataset(self.target).classes

    def load(self) -> tuple[datasets.Split, datasets.Split]:
        """The photos to learn, as 32x32 RGB: tiny-ImageNet's classes picked, or the target data set."""
        if self.target == tiny_imagenet.NAME:
            return tiny_imagenet.load(classes=self.classes)
        return datasets.load_dataset(self.target)

    def params(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("command", "out_dir")} | {"recipe": self.recipe}


def labelled_subset(x: np.ndarray, y: np.ndarray, per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` photos of each class (all of a class that has fewer), drawn at random (the same ones for
    every recipe at one seed)."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)])
    keep.sort()
    return x[keep], y[keep]


def _own_extractor(name: str) -> keras.Model:
    model = registry.load(name)
    return keras.Model(model.inputs, model.get_layer("probs").input, name=f"{name}_features")


def features(config: BackboneConfig, images: np.ndarray, progress: Callable[[float], None] | None = None
             ) -> np.ndarray:
    """The frozen backbone's features of ``images``, computed once per backbone (its file's content), images and
    recipe, then read from the array cache (``core.base.array_cache``)."""
    if not config.own:
        return backbones.cached_features(config.backbone, config.input_size, config.weights, images,
                                         drop_last=config.drop_last,
                                         pooling="flatten" if config.head == "report000" else "avg",
                                         seed=config.seed, progress=progress,
                                         allow_download=config.allow_download)
    # Keyed by the backbone file's content: a fresh clone or a copy of the same weights finds the features kept.
    parts = [file_digest(registry.get(config.backbone).path()), images,
             *array_cache.code(_own_extractor, backbones.compute_features, preprocess.scale_pixels)]
    entry = (f"{backbones.FEATURES}/{config.backbone}", parts)
    return backbones.compute_features(entry, images, lambda: _own_extractor(config.backbone), 256, progress)


def _head(num_features: int, config: BackboneConfig, num_classes: int) -> keras.Model:
    if config.head != "linear":
        return backbones.feature_head(num_features, num_classes, config.head)
    inputs = keras.Input((num_features,), name="features")
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax", dtype="float32",
                                                  name="probs")(inputs), name="head_linear")


def _backbone_model(config: BackboneConfig, num_classes: int) -> tuple[keras.Model, keras.Model]:
    """(whole model: photo in, probabilities out; its base), the base with the backbone's trained weights."""
    if config.own:
        source = registry.load(config.backbone)
        model = heads.replace_head(source, num_classes, config.model)
        return model, model.layers[1]
    base = backbones.load_backbone(config.backbone, config.input_size, config.weights, config.allow_download,
                                   seed=config.seed)
    if config.head != "linear":
        return backbones.transfer_model(base, num_classes, config.input_size, drop_last=config.drop_last,
                                        head=config.head), base
    extractor = backbones.feature_extractor(base, config.input_size, drop_last=config.drop_last)
    probs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probs")(extractor.output)
    return keras.Model(extractor.inputs, probs, name=config.model), base


def train_backbone(config: BackboneConfig, progress: Callable[[dict], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict:
    """Train one run of the backbone recipe; write the model and its card; return the card."""
    config.validate()
    if should_stop is not None and should_stop():
        raise kit.Cancelled("the run was cancelled before it started")
    keras.utils.set_random_seed(config.seed)
    (x_all, y_all), (x_test, y_test) = config.load()
    classes = config.class_names
    x_fit, y_fit = labelled_subset(x_all, y_all, config.labels_per_class, config.seed)
    started = time.perf_counter()
    if config.mode == "scratch":
        model = registry.build("cifar5_resnet")  # the backbone's architecture, random weights, 5 outputs
        model = heads.replace_head(model, len(classes), config.model, base_training=None)
        epochs = config.epochs
        reporter = kit.Reporter(config, -(-len(x_fit) // config.batch_size), progress, should_stop, None)
        kit.compile_photos(model, config.lr, config.epochs, -(-len(x_fit) // config.batch_size))
        model.fit(kit.pipeline(x_fit, y_fit, config.batch_size, config.seed, True, photos=True,
                                 num_classes=len(classes)),
                  epochs=epochs, callbacks=[reporter], shuffle=False, verbose=0)
    else:
        model, base = _backbone_model(config, len(classes))

        def tell(fraction: float) -> None:
            if progress is not None:
                progress({"kind": "batch", "epoch": 0, "batch": max(int(fraction * 100), 1), "batches": 100,
                          "epochs": config.epochs, "elapsed_s": time.perf_counter() - started})
            if should_stop is not None and should_stop():
                raise kit.Cancelled("the run was cancelled while it computed the backbone's features")

        f_fit = features(config, x_fit, tell)
        head = _head(f_fit.shape[1], config, len(classes))
        head.compile(optimizer=keras.optimizers.Adam(config.lr), loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])
        head_epochs = config.epochs if config.mode == "frozen" else max(config.epochs // 2, 1)
        reporter = kit.Reporter(config, -(-len(f_fit) // config.batch_size), progress, should_stop, None)
        # Small batches when labels are few, so that even 20 photos a class make enough steps to learn from.
        head.fit(f_fit, y_fit.astype("int32"), batch_size=min(config.batch_size, max(8, len(f_fit) // 10)),
                 epochs=head_epochs,
                 callbacks=[reporter, *_plateau()], verbose=0)
        _copy_head(head, model)
        base.trainable = False  # frozen: what the parameter counts report; fine-tuning thaws the top below
        if config.mode == "finetune":
            heads.inference_mode(base)
            backbones.unfreeze_layers(base, config.unfreeze)
            model.compile(optimizer=keras.optimizers.Adam(config.finetune_lr), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(kit.pipeline(x_fit, y_fit, config.batch_size, config.seed, True, photos=True,
                                     num_classes=len(classes)),
                      initial_epoch=head_epochs, epochs=config.epochs, callbacks=[reporter, *_plateau()], shuffle=False,
                      verbose=0)
    seconds = time.perf_counter() - started
    if config.mode == "frozen":  # the same numbers as the whole model's, from the test photos' cached features
        probs = head.predict(features(config, x_test), batch_size=1024, verbose=0)
    else:
        probs = model.predict(preprocess.scale_pixels(x_test), batch_size=256, verbose=0)
    title = f"{config.backbone} -> {datasets.get_dataset(config.target).title} ({MODE_TITLES[config.mode]}, " \
            f"{config.labels_per_class} labels per class)"
    card = letter_transfer.transfer_card(config, model, title, len(x_fit), y_test, probs, seconds, reporter.history,
                                  backbone=config.backbone, labels_per_class=config.labels_per_class,
                                  classes=list(classes))
    kit.save_model(model, card, Path(config.out_dir), config.model)
    if progress is not None:
        progress({"kind": "done", "card": card})
    return card


def _plateau() -> list[keras.callbacks.Callback]:
    """The reports' ReduceLROnPlateau and EarlyStopping. With a handful of labels there is no validation split
    to spare, so both watch the training loss: they end a head's training once it stops improving."""
    return [keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=1e-6),
            keras.callbacks.EarlyStopping(monitor="loss", patience=4, min_delta=1e-3)]


def _copy_head(head: keras.Model, model: keras.Model) -> None:
    """Put the head trained on cached features on top of the backbone (same layer names)."""
    for layer in head.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())
