"""The one model registry: a name maps to its builder, its title and its shipped files.

Pages, the CLI, the benchmarks and the tests all look models up here.
Shipped models are loaded with Keras' safe mode on (the default), so a model
file can never run arbitrary code.
"""

from __future__ import annotations

import functools
import importlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.base.paths import ROOT
from core.data import datasets

if TYPE_CHECKING:
    import keras

MODELS_DIR = ROOT / "assets" / "models"


@dataclass(frozen=True)
class ModelSpec:
    """A registered network: its name, the title pages show, its builder and a one-line description.

    ``dataset`` is what it reads (``mnist`` or ``cifar10``); ``knobs`` are the builder's
    hyperparameters a run may set (``dropout``, ``kernel_size``). A model trained in
    the lab is a spec too, with ``file`` pointing at its trained model and ``base``
    naming its architecture.
    """

    name: str
    title: str
    build: Callable[..., keras.Model]
    blurb: str
    dataset: str = "mnist"
    knobs: tuple[str, ...] = ("dropout", "kernel_size")
    file: Path | None = None
    base: str | None = None

    def path(self, models_dir: Path | None = None) -> Path:
        """The trained file: a lab run's own, else ``<models_dir>/<name>.keras`` (default: the shipped folder,
        looked up at call time so a test can point MODELS_DIR elsewhere)."""
        return self.file if self.file is not None else (models_dir or MODELS_DIR) / f"{self.name}.keras"

    def card_path(self, models_dir: Path | None = None) -> Path:
        return self.path(models_dir).with_suffix(".json")


# Units of the handwriting ConvNet's last hidden layer, its features: 256 read unseen writers' letters a point
# better than 64 (bench/bench_unseen_hands.py on the writer split; 30,000 digits, 5 epochs).
HANDWRITING_WIDTH = 256
# The shipped Greek model re-uses the handwriting ConvNet, chosen without the 12 test letters (bench/bench_transfer.py):
# trained on the 27 letters it reads 97.7% of Greek letters written as strokes in several hands (the ResNet 95.3%),
# and the same recipe reads 95.4% of letters by people it never saw (the ResNet 89.1%; bench_transfer, 2026-12-03).
SHIPPED_GREEK_SOURCE = "handwriting"


def transfer_name(source: str, target: str = "greek") -> str:
    """The registry name of ``source`` re-used for ``target``: ``greek`` for the shipped source, else
    ``greek_<source>``."""
    return target if source == SHIPPED_GREEK_SOURCE else f"{target}_{source}"


def _builder(module: str, function: str, **fixed) -> Callable[..., keras.Model]:
    """``core.nets.<module>.<function>``, imported when first called: reading the table loads no Keras, so the
    command line can say in a second that a model's data set is missing, before TensorFlow's 5-10 s import."""

    def build(**knobs) -> keras.Model:
        return getattr(importlib.import_module(f"core.nets.{module}"), function)(**fixed, **knobs)

    build.__name__ = build.__qualname__ = function
    return build


def _build_transfer(source: str, **_knobs) -> keras.Model:
    """``source`` with a new head for the Greek letters (trained by ``core.training.letter_transfer``)."""
    from core.nets import heads

    classes = datasets.get_dataset("greek").classes
    return heads.replace_head(build(source), len(classes), transfer_name(source))


TINY_KNOBS = ("classes", "side")  # a tiny-ImageNet run may pick its classes (wnids) and its photos' side (32, 64)


def _build_tiny(function: str, **fixed) -> Callable[..., keras.Model]:
    """A photo network for tiny-ImageNet, its head as wide as the classes picked (``classes``: wnids), else as the
    folder's classes (200 in the standard set), counted when it is built: the catalogue reads them from
    ``wnids.txt``. ``side``: the photos' side, 32 as the reports used them (or 64, as shipped)."""

    def build(classes: tuple[str, ...] | None = None, side: int | None = None, **knobs) -> keras.Model:
        n = len(classes) if classes else len(datasets.get_dataset("tiny-imagenet").classes)
        return _builder("photos", function, num_classes=n, **fixed, **({"side": side} if side else {}))(**knobs)

    build.__name__ = build.__qualname__ = function
    return build


def _build_cifar5_transfer(**_knobs) -> keras.Model:
    from core.nets import heads

    return heads.replace_head(build("cifar5_resnet"), 5, "cifar5_transfer")


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("dnn", "DNN", _builder("digits", "build_dnn"), "Dense layers only: sees pixels, not shapes.",
                  knobs=("dropout",)),
        ModelSpec("convnet", "ConvNet", _builder("digits", "build_convnet"),
                  "Convolutions and pooling: learns local strokes."),
        ModelSpec("resnet", "ResNet", _builder("digits", "build_resnet"), "Bottleneck blocks with skip connections."),
        # No parameter count in the title: a lab run of it titled after it may have other kernels (27,480 weights
        # with 3x3 instead of 21,840 with 5x5); the Compare table counts each network's own.
        ModelSpec("net002", "Net 002", _builder("digits", "build_net002"),
                  "The small two-conv net of report 002: 21,840 parameters with its 5x5 kernels."),
        ModelSpec("handwriting", "Handwriting ConvNet", _builder("digits", "build_convnet",
                                                                 num_classes=len(datasets.DATASETS["handwriting"].classes),
                                                                 width=HANDWRITING_WIDTH),
                  "The ConvNet trained on MNIST's digits, UNIPEN letters and 252 handwriting fonts' letters (36 "
                  "classes): the features your own classes learn from.", dataset="handwriting"),
        ModelSpec("cifar_vgg", "CIFAR VGG", _builder("photos", "build_cifar_vgg"),
                  "Three VGG blocks with batch normalisation (reports 001 and 003).", dataset="cifar10"),
        ModelSpec("cifar_alexnet", "CIFAR AlexNet", _builder("photos", "build_cifar_alexnet"),
                  "AlexNet's five convolutions and three dense layers, at 32x32 (report 001).", dataset="cifar10"),
        ModelSpec("cifar_resnet", "CIFAR ResNet-9", _builder("photos", "build_cifar_resnet"),
                  "A half-width ResNet-9: the shipped CIFAR-10 model.", dataset="cifar10"),
        # Reports 001 and 003's own data: tiny-ImageNet's photos at 32x32 (core.data.tiny_imagenet).
        ModelSpec("tiny_vgg", "tiny-ImageNet VGG", _build_tiny("build_cifar_vgg"),
                  "The CIFAR VGG's three blocks with batch normalisation on tiny-ImageNet at 32x32 (report 003's "
                  "task).", dataset="tiny-imagenet", knobs=("dropout", "kernel_size", *TINY_KNOBS)),
        ModelSpec("tiny_alexnet", "tiny-ImageNet AlexNet-32", _build_tiny("build_cifar_alexnet"),
                  "AlexNet at 32x32 on tiny-ImageNet's 200 classes (report 001: about 12%).", dataset="tiny-imagenet",
                  knobs=("dropout", "kernel_size", *TINY_KNOBS)),
        # Report 003's table: five CNNs on five tiny-ImageNet classes (core.nets.photos.REPORT_003_CNNS).
        *(ModelSpec(f"tiny003_model{v}", f"Report 003 model {v}", _build_tiny("build_report003", variant=v),
                    f"Report 003's CNN {v}: {words}.", dataset="tiny-imagenet", knobs=TINY_KNOBS)
          for v, words in ((1, "4 convolutions of 32-64 filters, 2 pools, 2 dense layers"),
                           (2, "5 convolutions of 128 filters, 3 pools, 3 dense layers"),
                           (3, "9 convolutions of 128-512 filters, no pooling, 2 dense layers, batch norm"),
                           (4, "8 convolutions of 128-512 filters, 4 pools, 3 dense layers, batch norm: its best"),
                           (5, "8 convolutions of 128-1024 filters, 4 pools, 4 dense layers, batch norm"))),
        ModelSpec("cifar5_resnet", "CIFAR-5 ResNet-9 backbone",
                  _builder("photos", "build_cifar_resnet", num_classes=5, width=16),
                  "A quarter-width ResNet-9 trained on airplane, automobile, bird, cat and deer only: the backbone "
                  "re-used for the other five classes.", dataset="cifar5_source", knobs=()),
        ModelSpec("cifar5_transfer", "CIFAR-5 backbone re-used for dog, frog, horse, ship, truck",
                  functools.partial(_build_cifar5_transfer), "The CIFAR-5 backbone with a new 5-class head.",
                  dataset="cifar5_target", knobs=()),
        # Drawing networks re-used for Greek letters (core.training.letter_transfer).
        ModelSpec("greek", "Greek letters (from the handwriting ConvNet)",
                  functools.partial(_build_transfer, SHIPPED_GREEK_SOURCE),
                  "The handwriting ConvNet's features (digits and letters) with a new 3-letter head (report 002, "
                  "part C's recipe), learnt from the report's 27 letters and many hands (Greek fonts and "
                  "strokes, drawn and photographed).", dataset="greek", knobs=()),
        *(ModelSpec(f"greek_{source}", f"Greek letters (from the {title})",
                    functools.partial(_build_transfer, source),
                    f"The {title}'s MNIST features with a new 3-letter head.", dataset="greek", knobs=())
          for source, title in (("net002", "net 002"), ("dnn", "DNN"), ("convnet", "ConvNet"), ("resnet", "ResNet"))),
    )
}

# The three networks the Draw page compares, in the order shown.
DRAW_MODELS = ("dnn", "convnet", "resnet")
# The networks whose frozen features your own classes' heads read, the default first: the handwriting ConvNet learnt
# letters as well as digits, and keeps apart classes drawn by people it never saw better than any digit net
# (bench/bench_unseen_hands.py, README).
FEATURE_MODELS = ("handwriting", "resnet", "convnet", "net002", "dnn")
# What a network re-used for letters (core.training.letter_transfer) may have learnt: digits, or digits and letters.
SOURCE_DATASETS = ("mnist", "handwriting")
# The networks the Filters page looks inside, in the order offered (the DNN shows templates instead).
FILTER_MODELS = ("net002", "convnet", "resnet", "dnn")


class ModelNotFound(LookupError):
    """No model of that name, or its trained file is missing."""


class ModelDamaged(ValueError):
    """A trained model's file is there but is not a whole ``.keras`` file (a copy or a save cut short)."""


RUN_PREFIX = "run:"
# Names with a prefix are models kept elsewhere, resolved by whoever keeps them: ``core.lab.runs`` registers
# ``run:<id>`` (a model trained in the lab) when it is imported. The registry itself imports no store, so every
# layer that reads models by name (explanations, own classes) also reads the lab's without depending on it.
RESOLVERS: dict[str, Callable[[str], ModelSpec]] = {}


def get(name: str) -> ModelSpec:
    """The spec registered under ``name``; ``run:<id>`` names a model trained in the lab."""
    for prefix, resolve in RESOLVERS.items():
        if name.startswith(prefix):
            return resolve(name[len(prefix):])
    if name.startswith(RUN_PREFIX):
        raise ModelNotFound(f"{name} is a model trained in the lab: import core.lab.runs to read the run store")
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelNotFound(f"unknown model {name!r}; choose one of {', '.join(REGISTRY)}") from None


def build(name: str, **knobs) -> keras.Model:
    """A fresh, untrained ``name``, with the hyperparameters given (None keeps the architecture's own)."""
    spec = get(name)
    return spec.build(**{k: v for k, v in knobs.items() if v is not None and k in spec.knobs})


def load(name: str, models_dir: Path | None = None) -> keras.Model:
    """Load the trained model ``name`` from ``models_dir`` (safe mode: no arbitrary code)."""
    path = get(name).path(models_dir)
    if name.startswith(RUN_PREFIX) and not path.is_file():
        raise ModelNotFound(f"run {name[len(RUN_PREFIX):]} has no trained model at {path}")
    if not path.is_file():
        raise ModelNotFound(f"no trained {name} at {path}; train it with: python -m core train --model {name}")
    if not zipfile.is_zipfile(path):  # Keras says "File not found" of a file that is there, cut short
        fix = "launch the run again" if name.startswith(RUN_PREFIX) else \
            f"restore the file, or train it again with: python -m core train --model {name}"
        raise ModelDamaged(f"the {name} model file {path} is damaged ({path.stat().st_size:,} bytes, not a whole "
                           f".keras file: a copy or a save that stopped half-way leaves it so): {fix}")
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def version(name: str, models_dir: Path | None = None) -> int:
    """A number that changes whenever the trained file is replaced (0 when there is none): a cache key."""
    path = get(name).path(models_dir)
    return path.stat().st_mtime_ns if path.is_file() else 0


def card(name: str, models_dir: Path | None = None) -> dict | None:
    """The JSON card written next to a trained model, or None when it is missing or unreadable."""
    path = get(name).card_path(models_dir)
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None


def available(models_dir: Path | None = None, dataset: str | None = "mnist") -> list[str]:
    """Names of the registered models of ``dataset`` (None: any) that have a trained file."""
    return [n for n, s in REGISTRY.items()
            if s.path(models_dir).is_file() and (dataset is None or s.dataset == dataset)]


def best_model(models_dir: Path | None = None) -> str:
    """The Draw model whose card has the highest test accuracy (ResNet when no card says otherwise)."""
    scored = [(c["test_accuracy"], n) for n in DRAW_MODELS
              if (c := card(n, models_dir)) and isinstance(c.get("test_accuracy"), float)]
    return max(scored)[1] if scored else "resnet"
