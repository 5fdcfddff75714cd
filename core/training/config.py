"""What defines a training run (``TrainConfig``), apart from the training itself (``core.training.train``).

Without TensorFlow: a run is configured and checked where it is launched (a page, ``python -m core run``), and
trained in a worker; the launching process then never spends the seconds TensorFlow takes to load only to
refuse a bad setting or hand the run over.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

from core.base import paths
from core.data import datasets, tiny_imagenet
from core.nets import registry

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
DEFAULT_LR = {"mnist": 1e-3, "cifar10": 0.1}  # Adam for digits; the peak of SGD's schedule for photos


@dataclass
class TrainConfig:
    """Everything that defines a training run; stored on the model card and as the run's MLflow params."""

    model: str
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float | None = None  # None: the recipe's own (DEFAULT_LR)
    dropout: float | None = None  # None: the architecture's own
    kernel_size: int | None = None
    augment: bool = True
    writing_styles: bool = True  # add slashed 0s, flagged 1s and crossed 7s (digits only; see core.images.augment)
    val_size: int = 5000
    limit: int | None = None  # train on the first N images only (quick runs, tests)
    classes: tuple[str, ...] | None = None  # tiny-ImageNet only: the classes (wnids) to learn, default all
    side: int | None = None  # tiny-ImageNet only: the photos' side, 32 (the reports', the default) or 64
    patience: int = 6
    polish_epochs: int = 3  # clean-data epochs after the augmented phase (digits only; 0: none)
    polish_lr: float = 5e-5
    precision: str = "auto"  # auto: mixed_float16 on a GPU, float32 on a CPU
    seed: int = 0
    out_dir: str = field(default_factory=lambda: str(paths.trained_dir()))
    checkpoint_dir: str | None = None  # resume from here when it holds a backup of this run
    command: str = ""  # how the run was launched, for the card

    def __post_init__(self) -> None:
        self.validate()

    @property
    def dataset(self) -> str:
        return registry.get(self.model).dataset

    @property
    def photos(self) -> bool:
        """Colour photos (CIFAR-10) rather than drawings (digits, letters): another augmentation and optimizer."""
        return not datasets.get_dataset(self.dataset).drawings

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[
            "cifar10" if self.photos else "mnist"]

    def validate(self) -> None:
        """Refuse, with words a student understands, a run that cannot work, before anything starts."""
        try:
            spec = registry.get(self.model)
        except registry.ModelNotFound as e:
            raise ValueError(str(e)) from None
        for name in ("epochs", "batch_size", "val_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1 image, not {self.limit}")
        if self.learning_rate is not None and not (0 < self.learning_rate <= 10):
            raise ValueError(f"the learning rate must be above 0 (and at most 10), not {self.learning_rate}")
        if self.polish_epochs < 0 or self.polish_lr <= 0:
            raise ValueError("polish_epochs must be >= 0 and the polish learning rate above 0")
        if self.dropout is not None and not (0 <= self.dropout < 1):
            raise ValueError(f"dropout is the fraction of units dropped: from 0 up to (not including) 1, "
                             f"not {self.dropout}")
        if self.kernel_size is not None:
            if "kernel_size" not in spec.knobs:
                raise ValueError(f"the {spec.title} has no convolution kernels to size")
            if not (1 <= self.kernel_size <= 7):
                raise ValueError(f"kernel size must be from 1 to 7 pixels, not {self.kernel_size}")
        if self.dropout is not None and "dropout" not in spec.knobs:
            raise ValueError(f"the {spec.title} has no dropout to set")
        if self.kernel_size is not None and not _kernel_fits(self.model, self.kernel_size):
            raise ValueError(f"a kernel size of {self.kernel_size} is too large for the {spec.title}: its "
                             f"feature maps shrink to nothing")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        self._validate_tiny(spec)
        n_fit = self.n_train - self.val_size
        if n_fit < 1:
            raise ValueError(f"a validation split of {self.val_size} leaves no training images")
        n_fit = min(n_fit, self.limit or n_fit)
        if self.batch_size > n_fit:
            raise ValueError(f"the batch size ({self.batch_size}) is larger than the {n_fit} training images")

    def _validate_tiny(self, spec: registry.ModelSpec) -> None:
        """Classes and side are tiny-ImageNet's: a subset of its wnids, at 32 or 64 pixels."""
        if (self.classes is not None or self.side is not None) and "classes" not in spec.knobs:
            raise ValueError(f"the {spec.title} reads {spec.dataset}: classes and side are tiny-ImageNet's")
        if self.side is not None and self.side not in tiny_imagenet.SIDES:
            raise ValueError(f"tiny-ImageNet's photos are used at {' or '.join(map(str, tiny_imagenet.SIDES))} "
                             f"pixels, not {self.side}")
        if self.classes is not None:
            self.classes = tuple(self.classes)  # as the run store and a page's multiselect give them: a list
            if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
                raise ValueError("pick at least two different classes")

    @property
    def n_train(self) -> int:
        """Training images of the data set, or of the classes picked."""
        if self.classes is not None:
            return tiny_imagenet.n_train(self.classes)
        return datasets.get_dataset(self.dataset).n_train

    @property
    def num_classes(self) -> int:
        return len(self.classes) if self.classes is not None else len(datasets.get_dataset(self.dataset).classes)

    def params(self) -> dict:
        """The settings that define the run (no file locations), as MLflow params and the card's config."""
        return {k: v for k, v in asdict(self).items() if k not in ("command", "out_dir", "checkpoint_dir")}


@functools.cache
def _kernel_fits(model: str, kernel_size: int) -> bool:
    """Whether the architecture builds with this kernel size (without padding, a large one can shrink the
    picture to nothing). Cached: pages validate whole grids of configs on every rerun."""
    try:
        registry.build(model, kernel_size=kernel_size)
        return True
    except ValueError:
        return False
