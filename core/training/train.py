"""Training: one plain function that any caller (CLI, run engine, test) can run.

``train(config, progress, should_stop)`` trains a registered architecture on
its data set (MNIST or CIFAR-10) with the project's recipe, writes the
``.keras`` model and a JSON card, and reports progress through a callback so a
page can show it live. ``should_stop`` lets a caller cancel between batches;
the files are then left untouched. With a ``checkpoint_dir``, a run killed
mid-way resumes from its last finished epoch when started again.

Digits (MNIST): the network first learns from augmented digits (shifts,
rotations, zoom, shear, stroke thickness, European writing styles) with Adam,
ReduceLROnPlateau and EarlyStopping, so that it reads drawings and photos and
not only MNIST. Then a short "polish" at a small learning rate on the same
digits without the distortions: the augmented phase leaves the network slightly
unsure of clean, centred digits, and a few clean epochs raise MNIST test
accuracy (ResNet 99.41% -> 99.6%) without losing the robustness (UNIPEN drawings
96.9% -> 97.5%; see bench/bench_accuracy.py).

Photos (CIFAR-10): shifted, mirrored and cut-out images, SGD with Nesterov momentum and
weight decay, a learning rate that warms up then follows a cosine to zero, and
label smoothing: the usual recipe for training CIFAR-10 nets fast from scratch.
"""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.base import device
from core.base.metrics import evaluate
from core.data import datasets, tiny_imagenet
from core.images import augment
from core.nets import inference, registry
from core.training.config import TrainConfig
from core.training.kit import (
    Cancelled,
    Progress,
    Reporter,
    compile_photos,
    pipeline,
    save_model,
    to_float,
    validation_batches,
)

BN_IMAGES = 4096  # training images whose batch statistics batch norm stores (at most)


def settle_batch_norm(model: keras.Model, images: np.ndarray, batch_size: int = 512,
                      should_stop: Callable[[], bool] | None = None) -> None:
    """Store in every batch norm layer the mean and variance of its inputs over ``images``, with the current
    weights ("precise BN": Wu & Johnson, Rethinking "Batch" in BatchNorm, 2021).

    During training a batch norm layer normalises with each batch's own statistics and keeps a running
    average of them (momentum 0.99) for inference. A short run cannot settle that average: a first
    convolution on [0, 1] pixels has a variance near 0.004, the average starts at 1, and after 2 quick epochs
    (94 steps) it was still ~140x too large, so the ConvNet and ResNet read 90% of their training batches and
    guessed one digit (11%) for every test digit. Even a fast average (momentum 0.9) lags weights that are
    still moving: the ResNet scored 93% after the same run, 96.5% with its statistics recomputed.
    Frozen layers (``trainable=False``) run in inference mode and are left as they are. ``should_stop``: a cancel
    ends the pass between batches (``Cancelled``), as it ends training.
    """
    norms = [layer for layer in _layers(model)
             if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]
    if not norms:
        return
    momenta = [layer.momentum for layer in norms]
    try:
        for k, start in enumerate(range(0, len(images), batch_size)):
            if should_stop is not None and should_stop():
                raise Cancelled("training cancelled while batch norm settled its statistics")
            for layer in norms:
                layer.momentum = k / (k + 1)  # the running average becomes the plain mean over the batches
            model(images[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum


def _layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer of ``model``, inside nested models too."""
    return [inner for layer in model.layers
            for inner in ([layer] if not hasattr(layer, "layers") else [layer, *_layers(layer)])]


class SettleBatchNorm(keras.callbacks.Callback):
    """Recompute batch norm's stored statistics (``settle_batch_norm``) before each validation, so that the
    validation scores, the callbacks that read them and the best epoch's weights use statistics of the
    weights as they are. On clean training digits: what the network is tested on and the Draw page shows it."""

    def __init__(self, images: np.ndarray, should_stop: Callable[[], bool] | None = None):
        super().__init__()
        self.images, self.should_stop = images, should_stop

    def on_test_begin(self, logs=None):
        settle_batch_norm(self.model, self.images, should_stop=self.should_stop)


BEFORE_IMAGES = 2000  # test images the untrained net is scored on


def testing_seconds(first_s: float, first_n: int, rest_s: float, rest_n: int, images: int) -> float:
    """How long reading ``images`` will take, from a first call that read ``first_n`` in ``first_s`` (tracing
    the net's graph included) and a second that read ``rest_n`` more in ``rest_s``. The tracing is paid once
    more by the test (its batches have another size), not once per image: scaled with the images, as it was,
    a busy machine's slow trace made a run's late time left several times the truth (64 s said, 18 s true)."""
    if rest_n <= 0:
        return first_s * images / max(first_n, 1)
    per_image = rest_s / rest_n
    return max(first_s - per_image * first_n, 0.0) + per_image * images


def _timed_guesses(model: keras.Model, images: np.ndarray) -> tuple[np.ndarray, float]:
    """The classes ``model`` guesses for ``images``, and the seconds that took (none and 0 for no image)."""
    if not len(images):
        return np.empty(0, np.int64), 0.0
    started = time.perf_counter()
    guesses = model.predict(images, batch_size=500, verbose=0).argmax(1)
    return guesses, time.perf_counter() - started


def _split(config: TrainConfig):
    """The fit, validation and test sets (uint8 images), with the extra writing styles for digits."""
    if config.classes is not None or config.side is not None:
        (x_train, y_train), (x_test, y_test) = tiny_imagenet.load(classes=config.classes,
                                                                  side=config.side or tiny_imagenet.SIDE)
    else:
        (x_train, y_train), (x_test, y_test) = datasets.load_dataset(config.dataset)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    x_val, y_val = x_train[: config.val_size], y_train[: config.val_size]
    x_fit, y_fit = x_train[config.val_size :], y_train[config.val_size :]
    if config.limit:
        x_fit, y_fit = x_fit[: config.limit], y_fit[: config.limit]
        x_val, y_val = x_val[: max(config.limit // 5, 100)], y_val[: max(config.limit // 5, 100)]
    if not config.photos and config.writing_styles:  # extra 0s, 1s and 7s as other countries write them
        x_extra, y_extra = augment.writing_styles(x_fit, y_fit, seed=config.seed)
        x_fit, y_fit = np.concatenate([x_fit, x_extra]), np.concatenate([y_fit, y_extra])
    return (x_fit, y_fit), (x_val, y_val), (x_test, y_test)


def _pipeline(x: np.ndarray, y: np.ndarray, config: TrainConfig, distort: bool) -> tf.data.Dataset:
    return pipeline(x, y, config.batch_size, config.seed, distort, photos=config.photos,
                    num_classes=config.num_classes)


# Images a compiled training call works through at least: small batches (the quick preset's 16) run several
# steps per call, as Python's per-step work otherwise dominates on a CPU. The quick preset's ConvNet run took
# 84 s a step per call and 67 s eight per call here, with the same weights; hooks and cancels then come every
# 8 batches (< 0.2 s).
IMAGES_PER_CALL = 128


def _compile_digits(model: keras.Model, learning_rate: float, batch_size: int) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=max(1, IMAGES_PER_CALL // batch_size))


def resolve_precision(config: TrainConfig) -> str:
    """The Keras dtype policy a run trains under."""
    if config.precision != "auto":
        return config.precision
    return "mixed_float16" if device.gpu_names() else "float32"


def train(config: TrainConfig, progress: Progress | None = None,
          should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``config.model``; write ``<out_dir>/<model>.keras`` and ``.json``; return the card."""
    config.validate()
    policy = keras.mixed_precision.global_policy()
    # Several GPUs (a run given more than one on a cluster): one model copy per GPU, gradients averaged.
    strategy = tf.distribute.MirroredStrategy() if len(device.gpu_names()) > 1 else tf.distribute.get_strategy()
    try:
        with strategy.scope():
            return _train(config, progress, should_stop)
    finally:
        # A cancelled or failed run must not leave mixed precision on for whoever builds a model next.
        keras.mixed_precision.set_global_policy(policy)


def _check(should_stop: Callable[[], bool] | None, config: TrainConfig, when: str) -> None:
    if should_stop is not None and should_stop():
        raise Cancelled(f"training of {config.model} cancelled {when}")


def _train(config: TrainConfig, progress: Progress | None, should_stop: Callable[[], bool] | None) -> dict:
    spec = registry.get(config.model)
    knobs = dict(dropout=config.dropout, kernel_size=config.kernel_size, classes=config.classes, side=config.side)
    keras.utils.set_random_seed(config.seed)
    precision = resolve_precision(config)
    keras.mixed_precision.set_global_policy(precision)
    _check(should_stop, config, "before it started")
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = _split(config)
    _check(should_stop, config, "while loading its data")
    x_val = to_float(x_val)
    photos = config.photos
    num_classes = config.num_classes
    val_labels = keras.utils.to_categorical(y_val, num_classes) if photos else y_val.astype("int32")
    model = registry.build(config.model, **knobs)
    batches = -(-len(x_fit) // config.batch_size)
    checkpoint = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    if checkpoint is not None:
        checkpoint.mkdir(parents=True, exist_ok=True)
    # Only a drawing network's own training polishes.
    reporter = Reporter(config, batches, progress, should_stop, checkpoint / "history.json" if checkpoint else None,
                        polish_epochs=0 if photos else config.polish_epochs)
    callbacks: list[keras.callbacks.Callback] = []
    if checkpoint is not None:  # first, so the reporter sees the epoch it restored
        callbacks.append(keras.callbacks.BackupAndRestore(str(checkpoint / "backup"), delete_checkpoint=False))
    callbacks.append(reporter)
    if photos:
        compile_photos(model, config.lr, config.epochs, batches)
    else:
        _compile_digits(model, config.lr, config.batch_size)
        callbacks += [
            SettleBatchNorm(to_float(x_fit[:BN_IMAGES]), should_stop),  # before the callbacks that read val_loss
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        ]
    x_test = to_float(x_test)
    # The untrained net's score, as report 002 tabulates "before" and "after" (about 10% for 10 classes),
    # on the first 2,000 test images: enough for a guess's score, and quick for the big nets. Read in two calls,
    # timed apart, so the time left's guess of the test (below) tells the first call's tracing from its images.
    scored = x_test[:BEFORE_IMAGES]
    first = min(len(scored) // 4, 500) or len(scored)
    (head, head_s), (rest, rest_s) = (_timed_guesses(model, part) for part in (scored[:first], scored[first:]))
    before = float((np.concatenate([head, rest]) == y_test[:len(scored)]).mean())
    # Testing the trained net reads the whole test set (photos three times: each with its mirror image, then alone).
    reporter.after_s = testing_seconds(head_s, first, rest_s, len(rest), len(x_test) * (3 if photos else 1))
    _check(should_stop, config, "before its first batch")
    started = time.perf_counter()
    _fit(model, config, x_fit, y_fit, x_val, val_labels, callbacks, reporter, photos)
    seconds = time.perf_counter() - started
    main_epochs = reporter.main_epochs
    history = reporter.history
    epochs_run = len(history.get("loss", []))
    keras.mixed_precision.set_global_policy("float32")
    _check(should_stop, config, "before its test")
    predict = functools.partial(model.predict, batch_size=512, verbose=0, callbacks=[reporter])
    probs = inference.with_mirror(predict)(x_test) if photos else predict(x_test)
    dataset_file = datasets.dataset_path(config.dataset)
    card = {
        "model": config.model,
        "title": spec.title,
        "dataset": config.dataset,
        **({"classes": list(tiny_imagenet.names(config.classes))} if config.classes is not None else {}),
        "command": config.command or f"train(TrainConfig(model={config.model!r}, ...))",
        "config": config.params() | {"learning_rate": config.lr},
        "precision": precision,
        "data": {"file": str(dataset_file or "keras download"), "sha256": datasets.dataset_sha256(config.dataset)},
        "params": int(model.count_params()),
        "epochs_run": epochs_run,
        "polish_from_epoch": main_epochs + 1 if epochs_run > main_epochs else None,
        # Summed per epoch, so a run resumed after a stopped session counts the time of every session.
        "train_seconds": round(sum(history.get("epoch_seconds", [])) or seconds, 1),
        "device": device.device_label(),
        "host": platform.node(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.items()},
        **evaluate(y_test, probs),
        "test_accuracy_before": round(before, 5),
    }
    if photos:  # how the app reads photos (inference.with_mirror), and beside it one view alone
        card["test_time_mirror"] = True
        card["test_accuracy_one_view"] = round(float((predict(x_test).argmax(1) == y_test).mean()), 5)
    if reporter.resumed_at:
        card["resumed_at_epoch"] = reporter.resumed_at
    _write(model, card, spec, knobs, Path(config.out_dir), config.model)
    if progress is not None:
        progress({"kind": "done", "card": card})
    return card


def _fit(model, config, x_fit, y_fit, x_val, val_labels, callbacks, reporter, photos) -> None:
    """The main phase (augmented), then for digits the clean polish; ``reporter.main_epochs`` marks the switch."""
    val = validation_batches(x_val, val_labels, config.batch_size)
    model.fit(_pipeline(x_fit, y_fit, config, distort=config.augment), epochs=config.epochs,
              validation_data=val, callbacks=callbacks, shuffle=False,  # the pipeline shuffles
              verbose=0)
    reporter.main_epochs = len(reporter.history.get("loss", []))
    if not photos and config.polish_epochs:
        # A fresh optimizer: the small steps should not carry momentum.
        _compile_digits(model, config.polish_lr, config.batch_size)
        settle = [c for c in callbacks if isinstance(c, SettleBatchNorm)]
        model.fit(_pipeline(x_fit, y_fit, config, distort=False), initial_epoch=reporter.main_epochs,
                  epochs=reporter.main_epochs + config.polish_epochs, validation_data=val,
                  callbacks=[reporter, *settle], shuffle=False, verbose=0)


def _write(model: keras.Model, card: dict, spec: registry.ModelSpec, knobs: dict, out: Path, name: str) -> None:
    # Save the weights in a float32 model without the optimizer's state (a third of the size).
    shipped = registry.build(name, **knobs)
    shipped.set_weights(model.get_weights())
    save_model(shipped, card, out, name)
