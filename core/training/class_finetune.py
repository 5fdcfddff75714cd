"""Train on our hands: fine-tune a Draw network on MNIST plus a class's drawings, scored on students it never saw.

The class's drawings come as the ``.npz`` that ``core.classroom.dataset`` writes: 28x28 digits as the Draw page
reads them, their labels, and which students are held out. The network learns from MNIST's digits (so it keeps
reading them) and the drawings of the students not held out, each shown ``repeats`` times an epoch, distorted
afresh; it is scored before and after on the held-out students' drawings and on MNIST's test digits. The run's
card records the class set's hash beside MNIST's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.base import paths
from core.base.metrics import evaluate
from core.data import datasets
from core.nets import registry
from core.training import kit

CLASS_DATA_KEYS = ("x", "y", "students", "held_out")


@dataclass
class ClassConfig:
    """A "Train on our hands" run: which Draw network, which class set, how long."""

    model: str = "resnet"  # the shipped Draw network fine-tuned
    data: str = ""  # the class set's .npz (core.classroom.dataset.write)
    data_sha256: str = ""
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 1e-4  # small: the network already reads digits, it adapts to new hands
    repeats: int = 20  # each class drawing is shown this many times an epoch, distorted each time
    mnist_limit: int = 10_000  # MNIST training digits learnt beside the class's
    mnist_test_limit: int | None = None  # None: all 10,000 test digits
    seed: int = 0
    out_dir: str = field(default_factory=lambda: str(paths.trained_dir()))
    command: str = ""

    recipe = "class"  # what the run engine calls: core.training.class_finetune.train_class

    def __post_init__(self) -> None:
        self.validate()

    @property
    def dataset(self) -> str:
        return "mnist"

    @property
    def lr(self) -> float:
        return self.learning_rate

    def validate(self) -> None:
        if self.model not in registry.DRAW_MODELS:
            raise ValueError(f"train on the class with a Draw network ({', '.join(registry.DRAW_MODELS)}), "
                             f"not {self.model!r}")
        for name in ("epochs", "batch_size", "repeats", "mnist_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
        if not 0 < self.learning_rate <= 1:
            raise ValueError(f"the learning rate must be above 0 and at most 1, not {self.learning_rate}")

    def params(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("command", "out_dir")} | {"recipe": self.recipe}


def load_class_data(path: str | Path) -> dict[str, np.ndarray]:
    """The class set's arrays (no pickle: plain arrays only)."""
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in CLASS_DATA_KEYS if k not in data]
        if missing:
            raise ValueError(f"{path} is not a class set: it has no {', '.join(missing)}")
        return {k: data[k] for k in CLASS_DATA_KEYS}


def right(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which of ``x`` the model reads as ``y`` (booleans): kept before training, to pair with after."""
    return model.predict(kit.to_float(x), verbose=0).argmax(1) == y if len(y) else np.zeros(0, bool)


def changes(before: np.ndarray, after: np.ndarray) -> dict[str, int]:
    """The drawings training fixed (read wrong before, right after) and broke (right before, wrong after): only
    these tell whether it helped beyond the luck of which drawings were read (the wall's rule, McNemar's)."""
    return {"fixed": int((~before & after).sum()), "broken": int((before & ~after).sum())}


def train_class(config: ClassConfig, progress: Callable[[dict], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> dict:
    """Fine-tune one run; write ``<out_dir>/<model>.keras`` and its card; return the card."""
    config.validate()
    if should_stop is not None and should_stop():
        raise kit.Cancelled("training on the class was cancelled before it started")
    keras.utils.set_random_seed(config.seed)
    data = load_class_data(config.data)
    held = data["held_out"].astype(bool)
    x_class, y_class = data["x"][~held], data["y"][~held]
    x_new, y_new = data["x"][held], data["y"][held]
    (x_mnist, y_mnist), (x_test, y_test) = datasets.load_dataset("mnist")
    pick = np.random.default_rng(config.seed).permutation(len(x_mnist))[:config.mnist_limit]
    x_test, y_test = x_test[:config.mnist_test_limit], y_test[:config.mnist_test_limit]
    x_fit = np.concatenate([x_mnist[pick], np.repeat(x_class, config.repeats, axis=0)])
    y_fit = np.concatenate([y_mnist[pick], np.repeat(y_class, config.repeats)])

    model = registry.load(config.model)
    model.compile(optimizer=keras.optimizers.Adam(config.lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    before = {"class": right(model, x_new, y_new), "mnist": right(model, x_test, y_test)}
    reporter = kit.Reporter(config, -(-len(x_fit) // config.batch_size), progress, should_stop, None)
    started = time.perf_counter()
    model.fit(kit.pipeline(x_fit, y_fit, config.batch_size, config.seed, distort=True, photos=False),
              epochs=config.epochs, callbacks=[reporter], shuffle=False, verbose=0)  # the pipeline shuffles
    seconds = time.perf_counter() - started
    probs = model.predict(kit.to_float(x_test), verbose=0)
    after = {"class": right(model, x_new, y_new), "mnist": probs.argmax(1) == y_test}
    from core.base import device

    card = {
        "model": config.model,
        "title": f"{registry.get(config.model).title} fine-tuned on the class's hands",
        "dataset": "mnist",
        "classes": list(datasets.get_dataset("mnist").classes),
        "command": config.command or "train on our hands",
        "config": config.params(),
        "data": {"file": str(datasets.dataset_path("mnist")), "sha256": datasets.dataset_sha256("mnist"),
                 "class_file": str(config.data), "class_sha256": config.data_sha256,
                 "n_train": int(len(x_fit)), "n_test": int(len(y_test))},
        "class": {"train_drawings": int(len(y_class)), "held_out_drawings": int(len(y_new)),
                  "train_students": int(len(set(data["students"][~held]))),
                  "held_out_students": int(len(set(data["students"][held]))),
                  "held_out_accuracy_before": round(float(before["class"].mean()), 5) if len(y_new) else None,
                  "held_out_accuracy_after": round(float(after["class"].mean()), 5) if len(y_new) else None,
                  "held_out": changes(before["class"], after["class"])},
        "test_accuracy_before": round(float(before["mnist"].mean()), 5),
        "test_changes": changes(before["mnist"], after["mnist"]),
        "params": int(model.count_params()),
        "epochs_run": len(reporter.history.get("loss", [])),
        "train_seconds": round(seconds, 1),
        "device": device.device_label(),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in reporter.history.items()},
        **evaluate(y_test, probs),
    }
    kit.save_model(model, card, Path(config.out_dir), config.model)
    if progress is not None:
        progress({"kind": "done", "card": card})
    return card
