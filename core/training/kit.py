"""The kit the training recipes share: a cancel, live progress, the input pipeline, and a safe save.

Every recipe (a network's own training in ``train``, the letter and backbone transfers, fine-tuning on a
class's drawings) reports its batches and epochs through one ``Reporter``, stops on a caller's cancel with
``Cancelled``, feeds ``fit`` from one ``pipeline`` and writes its model and card with ``save_model``, so the
pages and the run engine see every recipe the same way.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.base.files import atomic_path
from core.images import augment, preprocess

Progress = Callable[[dict], None]


class Cancelled(RuntimeError):
    """The caller asked the run to stop; nothing was written."""


class Reporter(keras.callbacks.Callback):
    """Reports batches (every ``every_s`` seconds) and epochs to ``progress``; stops when asked to.

    Its batch hook runs on Keras' callback threads (``async_safe``), so the training loop does not wait for
    each batch's loss to be read back. A cancel raised there reaches ``fit`` at the next batch.

    A batch report's loss and accuracy are the means over the batches since the one before. Keras hands
    each batch the means of its epoch so far, which start again at every epoch: drawn as they are, a live
    curve lags behind the net inside an epoch and jumps at each epoch's end. With ``m0`` after ``k0`` batches
    and ``m`` after ``k``, the batches in between average ``(k * m - k0 * m0) / (k - k0)`` (exactly, but for
    an epoch's last batch when it is smaller than the others: Keras weighs batches by their images).
    """

    async_safe = True

    def __init__(self, config, batches: int, progress: Progress | None, should_stop,
                 history_file: Path | None, every_s: float = 1.0, polish_epochs: int = 0):
        super().__init__()
        self.config, self.batches = config, batches
        self.polish_epochs = polish_epochs  # the clean epochs a recipe adds after ``config.epochs``
        self.progress, self.should_stop = progress, should_stop
        self.epoch = 0
        self.cancelled = False
        self.started = time.perf_counter()
        self.last_emit = -math.inf
        self.every_s = every_s
        self.history_file = history_file
        self.history: dict[str, list[float]] = {}
        self.resumed_at: int | None = None
        self.main_epochs = 0
        self.epoch_started = time.perf_counter()
        self.emitting = threading.Lock()  # batch hooks may run on two callback threads at once
        self.after_s: float | None = None  # the recipe's guess of its work after the last batch (testing), if any
        self.reported: tuple[int, dict[str, float]] = (0, {})  # this epoch's last report: batches, Keras' means
        if history_file is not None and history_file.is_file():
            self.history = json.loads(history_file.read_text())

    @property
    def total_epochs(self) -> int:
        return self.config.epochs + self.polish_epochs

    def _emit(self, **event) -> None:
        if self.progress is not None:
            event.update(epochs=self.total_epochs, elapsed_s=round(time.perf_counter() - self.started, 2))
            self.progress(event)

    def on_train_begin(self, logs=None):
        if self.model._initial_epoch and self.resumed_at is None:  # BackupAndRestore restored a killed run
            self.resumed_at = int(self.model._initial_epoch)
            self._emit(kind="resumed", epoch=self.resumed_at)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.reported = (0, {})
        self.epoch_started = time.perf_counter()
        # A run killed between writing its history and its backup must not count that epoch twice.
        self.history = {k: v[:epoch] for k, v in self.history.items()}

    def _stop_if_asked(self, when: str) -> None:
        if self.should_stop is not None and self.should_stop():
            # Raised, not stop_training: Keras would still validate and close the epoch as if it were whole.
            self.cancelled = True
            raise Cancelled(f"training of {self.config.model} cancelled {when}")

    def on_test_batch_end(self, batch, logs=None):
        # Validation at an epoch's end, and the test after the last: a cancel need not wait for either (a quick
        # ResNet cancelled at an epoch's last batch ran on for 53 s, and one cancelled in its test FINISHED).
        self._stop_if_asked(f"while validating epoch {self.epoch + 1}")

    def on_predict_batch_end(self, batch, logs=None):
        self._stop_if_asked("while testing")

    def on_train_batch_end(self, batch, logs=None):
        self._stop_if_asked(f"in epoch {self.epoch + 1}")
        with self.emitting:
            now = time.perf_counter()
            if now - self.last_emit < self.every_s and batch != self.batches - 1:
                return
            done, (before, means0) = batch + 1, self.reported
            if done <= before:  # an earlier batch's hook, run late on another callback thread
                return
            self.last_emit = now
            means = {k: float(logs[k]) for k in ("loss", "accuracy") if k in (logs or {})}
            self.reported = (done, means)
            window = {k: (done * m - before * means0.get(k, 0.0)) / (done - before) for k, m in means.items()
                      if before == 0 or k in means0}
            self._emit(kind="batch", epoch=self.epoch, batch=done, batches=self.batches,
                       loss=window.get("loss"), accuracy=window.get("accuracy"), after_s=self.after_s)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        logs.setdefault("learning_rate", float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
        logs["epoch_seconds"] = time.perf_counter() - self.epoch_started
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.history_file is not None:
            self.history_file.write_text(json.dumps(self.history))
        self._emit(kind="epoch", epoch=epoch + 1, logs=logs)


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images as the networks take them: float32 in [0, 1], with a channel axis for gray digits."""
    x = preprocess.scale_pixels(x)
    return x[..., None] if x.ndim == 3 else x


def _data_options() -> tf.data.Options:
    """tf.data without its autotuner. Keras makes a new iterator every epoch, and destroying the last one
    waits for the autotuner's thread: up to 1.2 s of idle CPU at the start of about half the epochs (seen
    with py-spy; a small net's epoch here lasts 1.3 s). The pipelines below set their parallelism instead."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


PARALLEL = max(2, os.cpu_count() or 2)  # map calls at once: the augmentations are light, so one per core


def pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, distort: bool, photos: bool,
             num_classes: int = 10, aspect: float = 0.0) -> tf.data.Dataset:
    """Shuffled batches of float images in [0, 1], distorted afresh every epoch when ``distort``.

    Digits (and letters) get the drawing augmentations (shifts, rotations, zoom, shear, stroke width);
    photos get shifts, flips and cutout, with one-hot labels for label smoothing.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y.astype("int32")))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)

    def prepare(images, labels):
        images = tf.cast(images, tf.float32) / 255.0
        return (images if photos else images[..., None]), labels

    ds = ds.map(prepare, num_parallel_calls=PARALLEL)
    if distort and photos:
        aug = augment.make_photo_augmenter(seed)
        ds = ds.map(lambda x, y: (augment.cutout(aug(x, training=True)), y), num_parallel_calls=PARALLEL)
    elif distort:
        aug = augment.make_augmenter(seed, aspect)
        ds = ds.map(lambda x, y: (augment.random_thickness(aug(x, training=True)), y),
                    num_parallel_calls=PARALLEL)
    if photos:  # label smoothing needs one-hot labels
        ds = ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=PARALLEL)
    return ds.prefetch(2).with_options(_data_options())


def validation_batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Validation images (already float) and labels as batches, for ``fit(validation_data=...)``: with the
    same options as ``pipeline``, and twice as quick here as Keras' own batching of arrays next to a dataset."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(2).with_options(_data_options())


def compile_photos(model: keras.Model, learning_rate: float, epochs: int, steps_per_epoch: int) -> None:
    """Compile for photos with the usual recipe for CIFAR-10 from scratch: SGD with Nesterov momentum and weight
    decay, a learning rate that warms up to ``learning_rate`` then follows a cosine to zero, label smoothing."""
    total = epochs * steps_per_epoch
    warmup = max(int(0.2 * total), 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate / 10, warmup_target=learning_rate, warmup_steps=warmup,
        decay_steps=max(total - warmup, 1), alpha=0.0)
    # Keras decays weights apart from the gradient (lr * wd per step): 5e-3 here is the usual coupled
    # L2 of 5e-4 under momentum 0.9.
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=5e-3),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])


def save_model(model: keras.Model, card: dict, out: Path, name: str) -> None:
    """Write ``<out>/<name>.keras`` and ``<name>.json`` under temporary names, then rename them into place,
    so a run killed here never leaves half a model."""
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / f"{name}.keras") as tmp_model, atomic_path(out / f"{name}.json") as tmp_card:
        model.save(tmp_model)
        tmp_card.write_text(json.dumps(card, indent=1))
