"""Training: one plain function that any caller (CLI, background worker, test) can run.

``train(config, progress)`` trains a registered architecture on MNIST with the
project's recipe, writes
the ``.keras`` model and a JSON card beside it, and reports progress through a
callback so a page can show it live. A ``should_stop`` callable lets a caller
cancel between batches; the files are then left untouched.

The recipe has two phases. First the network learns from augmented digits
(shifts, rotations, zoom, shear, stroke thickness, European writing styles)
with Adam, ReduceLROnPlateau and EarlyStopping, so that it reads drawings and
photos and not only MNIST. Then a short "polish" at a small learning rate on
the same digits without the geometric distortions: the augmented phase leaves
the network slightly unsure of clean, centred digits, and a few clean epochs
raise MNIST test accuracy (ResNet 99.41% -> 99.6%) without losing the
robustness (UNIPEN drawings 96.9% -> 97.5%; see bench/bench_accuracy.py).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core import augment, data, device, registry
from core.metrics import evaluate

Progress = Callable[[dict], None]


@dataclass
class TrainConfig:
    """Everything that defines a training run; stored on the model card."""

    model: str
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 1e-3
    augment: bool = True
    writing_styles: bool = True  # add slashed 0s, flagged 1s and crossed 7s (see core.augment)
    val_size: int = 5000
    limit: int | None = None  # train on the first N images only (quick runs, tests)
    patience: int = 6
    polish_epochs: int = 3  # clean-data epochs after the augmented phase (0: none)
    polish_lr: float = 5e-5
    seed: int = 0
    out_dir: str = str(registry.MODELS_DIR)
    command: str = ""  # how the run was launched, for the card

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "val_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1 image, not {self.limit}")
        if self.polish_epochs < 0 or self.learning_rate <= 0 or self.polish_lr <= 0:
            raise ValueError("polish_epochs must be >= 0 and learning rates > 0")


class Cancelled(RuntimeError):
    """The caller asked the run to stop; nothing was written."""


class _Reporter(keras.callbacks.Callback):
    def __init__(self, config: TrainConfig, batches: int, progress: Progress | None, should_stop):
        super().__init__()
        self.config, self.batches = config, batches
        self.progress, self.should_stop = progress, should_stop
        self.epoch = 0
        self.cancelled = False
        self.started = time.perf_counter()

    def _emit(self, **event) -> None:
        if self.progress is not None:
            event.update(epochs=self.config.epochs + self.config.polish_epochs,
                         elapsed_s=round(time.perf_counter() - self.started, 2))
            self.progress(event)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self.model.stop_training = True
        if batch % 50 == 0 or batch == self.batches - 1:
            self._emit(kind="batch", epoch=self.epoch, batch=batch + 1, batches=self.batches,
                       loss=float(logs.get("loss", np.nan)) if logs else None)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self._emit(kind="epoch", epoch=epoch + 1, logs=logs)


def _to_float(x: np.ndarray) -> np.ndarray:
    return (x.astype("float32") / 255.0)[..., None]


def _datasets(config: TrainConfig):
    """The fit arrays (with the extra writing styles), the validation and the test set."""
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    x_val, y_val = x_train[: config.val_size], y_train[: config.val_size]
    x_fit, y_fit = x_train[config.val_size :], y_train[config.val_size :]
    if config.limit:
        x_fit, y_fit = x_fit[: config.limit], y_fit[: config.limit]
        x_val, y_val = x_val[: max(config.limit // 5, 100)], y_val[: max(config.limit // 5, 100)]
    if config.writing_styles:
        x_extra, y_extra = augment.writing_styles(x_fit, y_fit, seed=config.seed)
        x_fit, y_fit = np.concatenate([x_fit, x_extra]), np.concatenate([y_fit, y_extra])
    return ((_to_float(x_fit), y_fit.astype("int32")), (_to_float(x_val), y_val.astype("int32")),
            (_to_float(x_test), y_test))


def _pipeline(x: np.ndarray, y: np.ndarray, config: TrainConfig, distort: bool) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True).batch(config.batch_size)
    if distort:
        aug = augment.make_augmenter(config.seed)
        ds = ds.map(lambda x, y: (augment.random_thickness(aug(x, training=True)), y),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _compile(model: keras.Model, learning_rate: float) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def train(config: TrainConfig, progress: Progress | None = None,
          should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``config.model`` on MNIST; write ``<out_dir>/<model>.keras`` and ``.json``; return the card."""
    policy = keras.mixed_precision.global_policy()
    try:
        return _train(config, progress, should_stop)
    finally:
        # A cancelled or failed GPU run must not leave mixed precision on for whoever builds a model next.
        keras.mixed_precision.set_global_policy(policy)


def _train(config: TrainConfig, progress: Progress | None, should_stop: Callable[[], bool] | None) -> dict:
    spec = registry.get(config.model)
    keras.utils.set_random_seed(config.seed)
    on_gpu = bool(device.gpu_names())
    if on_gpu:
        keras.mixed_precision.set_global_policy("mixed_float16")
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = _datasets(config)
    model = spec.build()
    _compile(model, config.learning_rate)
    batches = -(-len(x_fit) // config.batch_size)
    reporter = _Reporter(config, batches, progress, should_stop)
    callbacks = [
        reporter,
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
    ]
    started = time.perf_counter()
    history = model.fit(_pipeline(x_fit, y_fit, config, distort=config.augment), epochs=config.epochs,
                        validation_data=(x_val, y_val), callbacks=callbacks, shuffle=False,  # the pipeline shuffles
                        verbose=0).history
    main_epochs = len(history["loss"])
    if config.polish_epochs and not reporter.cancelled:
        _compile(model, config.polish_lr)  # a fresh optimizer: the small steps should not carry old momentum
        polish = model.fit(_pipeline(x_fit, y_fit, config, distort=False), initial_epoch=main_epochs,
                           epochs=main_epochs + config.polish_epochs, validation_data=(x_val, y_val),
                           callbacks=[reporter], shuffle=False, verbose=0).history
        polish["learning_rate"] = [config.polish_lr] * len(polish["loss"])
        history = {k: history[k] + polish.get(k, []) for k in history}
    seconds = time.perf_counter() - started
    epochs_run = len(history["loss"])
    if reporter.cancelled:
        raise Cancelled(f"training of {config.model} cancelled after {epochs_run} epoch(s)")
    if on_gpu:
        keras.mixed_precision.set_global_policy("float32")
    probs = model.predict(x_test, batch_size=512, verbose=0)
    card = {
        "model": config.model,
        "title": spec.title,
        "command": config.command or f"train(TrainConfig(model={config.model!r}, ...))",
        "config": {k: v for k, v in asdict(config).items() if k != "command"},
        "data": {"file": str(data.mnist_path() or "keras download"), "sha256": data.mnist_sha256()},
        "params": int(model.count_params()),
        "epochs_run": epochs_run,
        "polish_from_epoch": main_epochs + 1 if epochs_run > main_epochs else None,
        "train_seconds": round(seconds, 1),
        "device": device.device_label(),
        "host": platform.node(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.items()},
        **evaluate(y_test, probs),
    }
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Write to temporary names then rename, so a run killed here never leaves half a model.
    tmp_model, tmp_card = out / f".{config.model}.tmp.keras", out / f".{config.model}.tmp.json"
    # Ship the weights without the optimizer's state (a third of the size); the app never resumes training.
    shipped = spec.build()
    shipped.set_weights(model.get_weights())
    shipped.save(tmp_model)
    tmp_card.write_text(json.dumps(card, indent=1))
    os.replace(tmp_model, out / f"{config.model}.keras")
    os.replace(tmp_card, out / f"{config.model}.json")
    if progress is not None:
        progress({"kind": "done", "card": card})
    return card
