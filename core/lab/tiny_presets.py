"""Reports 001 and 003 on their own data: tiny-ImageNet presets, and the reports' figures to set beside ours.

Report 003 compared five CNNs on five tiny-ImageNet classes at 32x32 (its table: model 4, eight convolutions
with batch normalisation, was best at 77.2%); report 001 trained AlexNet at 32x32 on all 200 classes (about
12%). Each preset here is the list of ``TrainConfig`` that the run engine launches, on the classes the teacher
picks (report 003 does not name its five: the default is the first five of ``wnids.txt``) at 32 or 64 pixels.
"quick" runs a few epochs, "full" the reports' scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.data import tiny_imagenet
from core.lab import runs
from core.nets import registry
from core.training.config import TrainConfig

# Report 003's table: test accuracy of each CNN on its five classes.
REPORT_003_TABLE = {"tiny003_model1": 0.516, "tiny003_model2": 0.312, "tiny003_model3": 0.615,
                    "tiny003_model4": 0.772, "tiny003_model5": 0.752}
REPORT_003_CLASSES = 5
# Report 001, experiment 3: AlexNet at 32x32 on tiny-ImageNet's 200 classes, "about 12%".
REPORT_001_ALEXNET = {"tiny_alexnet": 0.12}
LAB = "tiny"
VAL_FRACTION = 0.1  # of the training photos held out to watch each epoch (the labelled val split is the test)
SIZES = {"quick": dict(epochs=5), "full": dict(epochs=30)}  # report 003's log ran 5 epochs
SIZE_WORDS = {"quick": "5 epochs", "full": "30 epochs, the reports' scale"}


@dataclass(frozen=True)
class Preset:
    """A report's experiment on tiny-ImageNet: its networks, their figures in the report, its classes."""

    title: str
    report: dict[str, float]  # model name -> the report's test accuracy
    n_classes: int | None  # how many classes the report used (None: all)
    where: str  # which table or experiment of the report


PRESETS = {
    "report003": Preset("Report 003: five CNNs on five classes", REPORT_003_TABLE, REPORT_003_CLASSES,
                        "report 003's table"),
    "report001": Preset("Report 001: AlexNet-32 on all 200 classes", REPORT_001_ALEXNET, None,
                        "report 001's experiment 3"),
}


def default_classes(preset: str) -> tuple[str, ...] | None:
    """The classes a preset starts from: the first ``n_classes`` of ``wnids.txt``, or None for all of them."""
    n = PRESETS[preset].n_classes
    return None if n is None else tiny_imagenet.layout().wnids[:n]


def configs(preset: str, size: str = "quick", classes: tuple[str, ...] | None = None,
            side: int = tiny_imagenet.SIDE, **overrides) -> list[TrainConfig]:
    """The runs of ``preset``: each of its networks on ``classes`` (None: all) at ``side`` pixels."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; one of {', '.join(PRESETS)}")
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; one of {', '.join(SIZES)}")
    classes = tuple(classes) if classes else None
    n_train = tiny_imagenet.n_train(classes or tiny_imagenet.layout().wnids)
    val_size = max(1, int(n_train * VAL_FRACTION))
    batch_size = min(TrainConfig.batch_size, n_train - val_size)  # a folder of a few photos a class still trains
    settings = SIZES[size] | {"val_size": val_size, "batch_size": batch_size} | overrides
    return [TrainConfig(model=model, classes=classes, side=side, **settings) for model in PRESETS[preset].report]


def beside_report(preset: str) -> list[dict]:
    """A row per network of ``preset``: the report's figure and the latest finished run's here (None: none)."""
    rows = []
    for model, theirs in PRESETS[preset].report.items():
        finished = runs.search(lab=LAB, status=["FINISHED"], model=model, max_results=1)
        run = finished[0] if finished else None
        rows.append({"model": model, "report": theirs,
                     "ours": run.metrics.get("test_accuracy") if run else None,
                     "classes": run.params.get("classes") if run else None,
                     "side": run.params.get("side") if run else None, "run": run})
    return rows


def classes_words(classes) -> str:
    """A run's classes as the store keeps them ("None" or "('n01443537', ...)"): '5 classes' or 'all'."""
    if classes in (None, "None"):
        return "all"
    picked = classes if isinstance(classes, (list, tuple)) else [c for c in str(classes).strip("()[]").split(",")
                                                                  if c.strip(" '\"")]
    return f"{len(picked)} classes"


def against_report(preset: str, rows: list[dict]) -> str:
    """The preset's lesson from the figures: the report's best network, and ours when runs have finished."""
    report = PRESETS[preset]
    best = max(rows, key=lambda r: r["report"])
    said = f"In {report.where}, the best is the {registry.get(best['model']).title} at {best['report']:.1%}."
    ours = [r for r in rows if r["ours"] is not None]
    if not ours:
        return said + " No run here yet: launch the preset to set ours beside it."
    top = max(ours, key=lambda r: float(r["ours"]))
    same = " too" if top["model"] == best["model"] else ""
    return (f"{said} Here, of {len(ours)} network{'s' if len(ours) > 1 else ''} run, the best is the "
            f"{registry.get(top['model']).title}{same} at {float(top['ours']):.1%}.")
