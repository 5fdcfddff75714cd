"""Transfer learning: a network trained on digits, re-used to read Greek letters (report 002, part C).

An MNIST network's layers before its last one have learnt to see strokes,
loops and crossings. To read alpha, beta and gamma from only 27 examples, keep
those layers as they are (``freeze_base``) and train a new last layer of 3
outputs on top (``replace_head``): for the 21,840-parameter net002 that is 153
trainable weights (50 features x 3 + 3 biases) instead of 21,840, few enough to
learn from 27 pictures. The two controls show what freezing buys:

- ``frozen``: the MNIST features kept, only the new head trained (the recipe);
- ``finetune``: start from the MNIST weights but train every layer ("finetune every layer");
- ``scratch``: the same architecture from random weights, trained on the 27 letters alone.

The letters go through the app's one preprocessing path (``datasets.read_class_folders``),
and, for the networks that learn their own features (retrained or from scratch),
every epoch shows each training letter ``repeats`` times, distorted afresh each
time (the drawing augmentations of the digit networks, plus width stretching),
since 27 pictures are too few to see enough variation. A frozen base's head
learns from the clean letters: measured, the distortions cost it test letters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np

from core.base import paths
from core.base.metrics import evaluate
from core.data import datasets, greek_hands
from core.nets import registry
from core.nets.backbones import count_params
from core.nets.heads import freeze_base, replace_head
from core.training import kit

MODES = ("frozen", "finetune", "scratch")
# Each title holds the word a run's name shows for its mode (runs.RunInfo.label: "..., run 7 (finetune)"), and
# none names MNIST: the handwriting network learnt letters too.
MODE_TITLES = {"frozen": "frozen features, new head", "finetune": "finetune every layer", "scratch": "from scratch"}
DEFAULT_LR = {"frozen": 1e-2, "finetune": 1e-3, "scratch": 1e-3}
@dataclass
class TransferConfig:
    """A transfer run: which MNIST network, onto which folder data set, frozen, fine-tuned or from scratch."""

    source: str = "net002"
    target: str = "greek"
    mode: str = "frozen"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float | None = None  # None: DEFAULT_LR for the mode
    augment: bool | None = None  # None: off for a frozen base (measured: distortions cost letters), else on
    repeats: int = 20  # each training picture is shown this many times per epoch, distorted each time
    aspect: float = 0.3  # letters are also stretched or squeezed in width by up to this fraction
    seed: int = 0
    hands: bool = False  # also learn from many hands (core.data.greek_hands); chosen and scored on held-out ones
    out_dir: str = field(default_factory=lambda: str(paths.trained_dir()))
    command: str = ""

    recipe = "transfer"  # what the run engine calls: core.training.letter_transfer.train_transfer

    def __post_init__(self) -> None:
        self.validate()

    @property
    def model(self) -> str:
        return registry.transfer_name(self.source, self.target)

    @property
    def dataset(self) -> str:
        return self.target

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[self.mode]

    @property
    def distort(self) -> bool:
        """Whether the training letters are distorted. A frozen base computes fixed features, and a head on
        them reads the test letters better from the 27 clean ones (bench/bench_transfer.py); networks that
        learn their own features need the variety."""
        return self.augment if self.augment is not None else self.mode != "frozen"

    def validate(self) -> None:
        """Refuse, in plain words, a transfer run that cannot work, before anything starts."""
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        try:
            source = registry.get(self.source)
        except registry.ModelNotFound as e:
            raise ValueError(str(e)) from None
        if source.dataset not in registry.SOURCE_DATASETS:
            raise ValueError(f"the {source.title} reads {source.dataset}; transfer to letters starts from a "
                             f"network trained on drawings: MNIST digits, or digits and letters")
        try:
            target = datasets.get_dataset(self.target)
        except datasets.DataError as e:
            raise ValueError(str(e)) from None
        if target.kind != "folders":
            raise ValueError(f"{target.title} is not a folder data set of drawings")
        if self.hands and self.target != "greek":
            raise ValueError("the many hands (core.data.greek_hands) are Greek letters: use them with greek only")
        for name in ("epochs", "batch_size", "repeats"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
        if self.learning_rate is not None and not (0 < self.learning_rate <= 1):
            raise ValueError(f"the learning rate must be above 0 and at most 1, not {self.learning_rate}")

    def params(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("command", "out_dir")} | {"recipe": self.recipe}


def param_table(source: str, target: str = "greek") -> list[dict]:
    """Report 002's figure 11 as rows: the source network's parameters, then the transfer model's in each mode."""
    spec = registry.get(source)
    learnt = datasets.get_dataset(spec.dataset)
    rows = [{"model": f"{spec.title} ({learnt.title}, {len(learnt.classes)} classes)",
             **count_params(registry.build(source))}]
    n = len(datasets.get_dataset(target).classes)
    for mode in MODES:
        model = replace_head(registry.build(source), n, registry.transfer_name(source, target),
                             base_training=None if mode == "scratch" else False)
        if mode == "frozen":
            freeze_base(model)
        rows.append({"model": f"{n} letters, {MODE_TITLES[mode]}", **count_params(model)})
    return rows


def start_model(config: TransferConfig) -> keras.Model:
    """The network a run starts from: the shipped MNIST weights (frozen or not), or random ones."""
    classes = datasets.get_dataset(config.target).classes
    if config.mode == "scratch":
        return replace_head(registry.build(config.source), len(classes), config.model, base_training=None)
    source = registry.load(config.source)
    model = replace_head(source, len(classes), config.model)
    return freeze_base(model) if config.mode == "frozen" else model


def train_transfer(config: TransferConfig, progress: Callable[[dict], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> dict:
    """Train one transfer run; write ``<out_dir>/<model>.keras`` and its card; return the card.

    The card has the same scores as a trained network's (test accuracy, macro-F1, per-class
    scores, confusion matrix), plus the parameter counts before and after the head was swapped.
    """

    config.validate()
    if should_stop is not None and should_stop():
        raise kit.Cancelled(f"the transfer to {config.target} was cancelled before it started")
    keras.utils.set_random_seed(config.seed)
    (x_fit, y_fit), (x_test, y_test) = datasets.load_dataset(config.target)
    if config.hands:
        x_hands, y_hands = greek_hands.training(config.seed)
        x_fit, y_fit = np.concatenate([x_fit, x_hands]), np.concatenate([y_fit, y_hands])
    source_params = count_params(registry.build(config.source))
    model = compile_model(start_model(config), config)
    batches = -(-len(x_fit) * (config.repeats if config.distort else 1) // config.batch_size)
    reporter = kit.Reporter(config, batches, progress, should_stop, None)
    x_eval = kit.to_float(x_test)
    before = float((model.predict(x_eval, verbose=0).argmax(1) == y_test).mean())
    # Validation: the held-out hands when many hands are learnt; else the test letters, for the curves only
    # (nothing here is chosen by them).
    validation = (x_eval, y_test)
    if config.hands:
        x_held, y_held = greek_hands.held_out(config.seed)
        validation = (kit.to_float(x_held), y_held)
        held_before = float((model.predict(validation[0], verbose=0).argmax(1) == y_held).mean())
    started = time.perf_counter()
    fit(model, x_fit, y_fit, config, validation=validation, callbacks=[reporter])
    seconds = time.perf_counter() - started
    probs = model.predict(x_eval, verbose=0)
    extra = {}
    if config.hands:
        held = model.predict(validation[0], verbose=0).argmax(1)
        extra = {"validation": "held-out hands (core.data.greek_hands.held_out)",
                 "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "hands": {"sha256": greek_hands.sha256(), "n_train": int(len(y_hands)),
                           "letters_sha256": greek_hands.letters_sha256(x_hands, y_hands),
                           "held_out_letters_sha256": greek_hands.letters_sha256(x_held, y_held),
                           "held_out_families": list(greek_hands.HELD_OUT),
                           "held_out_shapes": {k: list(v) for k, v in greek_hands.HELD_OUT_SHAPES.items()},
                           "n_held_out": int(len(y_held)), "held_out_accuracy_before": round(held_before, 5),
                           "held_out_accuracy": round(float((held == y_held).mean()), 5),
                           "held_out_per_class": [round(float((held[y_held == k] == k).mean()), 5)
                                                  for k in range(len(greek_hands.CLASSES))]}}
    title = f"{registry.get(config.source).title} -> {datasets.get_dataset(config.target).title} " \
            f"({MODE_TITLES[config.mode]})"
    card = transfer_card(config, model, title, len(x_fit), y_test, probs, seconds, reporter.history,
                         source=config.source, source_params=source_params,
                         test_accuracy_before=round(before, 5),
                         test_predictions=[[round(float(p), 4) for p in row] for row in probs], **extra)
    _write(model, card, Path(config.out_dir))
    if progress is not None:
        progress({"kind": "done", "card": card})
    return card


def transfer_card(config, model: keras.Model, title: str, n_train: int, y_test: np.ndarray, probs: np.ndarray,
                  seconds: float, history: dict, **extra) -> dict:
    """A transfer run's model card: the fields every trained model's card has (scores, per-class scores,
    confusion matrix, data hash, seconds, device), the parameter counts left to learn, and ``extra``."""
    from core.base import device

    return {
        "model": config.model,
        "title": title,
        "dataset": config.dataset,
        "classes": list(datasets.get_dataset(config.dataset).classes),
        "command": config.command or f"{config.recipe} run ({config.mode})",
        "config": config.params() | {"learning_rate": config.lr},
        "mode": config.mode,
        "data": {"file": str(datasets.dataset_path(config.dataset)), "sha256": datasets.dataset_sha256(config.dataset),
                 "n_train": int(n_train), "n_test": int(len(y_test))},
        "params": int(model.count_params()),
        "transfer_params": count_params(model),
        "epochs_run": len(history.get("loss", [])),
        "train_seconds": round(seconds, 1),
        "device": device.device_label(),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.items()},
        **evaluate(y_test, probs),
        **extra,
    }


def fit(model: keras.Model, x: np.ndarray, y: np.ndarray, config: TransferConfig,
        validation: tuple[np.ndarray, np.ndarray] | None = None, callbacks: list | None = None) -> None:
    """Train a compiled transfer model on uint8 letters ``x``, each shown ``config.repeats`` times an epoch."""

    repeats = config.repeats if config.distort else 1  # undistorted copies would only repeat the same batch
    x_rep, y_rep = np.repeat(x, repeats, axis=0), np.repeat(y, repeats)
    val = None
    if validation is not None:  # float images, as the network takes them
        val = kit.validation_batches(validation[0], validation[1].astype("int32"), config.batch_size)
    model.fit(kit.pipeline(x_rep, y_rep, config.batch_size, config.seed, config.distort, photos=False,
                             aspect=config.aspect),
              epochs=config.epochs, validation_data=val, callbacks=callbacks or [],
              shuffle=False, verbose=0)  # the pipeline shuffles


def compile_model(model: keras.Model, config: TransferConfig) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(config.lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _write(model: keras.Model, card: dict, out: Path) -> None:
    """Save the model as its registry architecture (all layers trainable, no optimizer) and its card."""

    shipped = registry.build(card["model"])
    shipped.set_weights(model.get_weights())
    kit.save_model(shipped, card, out, card["model"])
