"""The reports' experiments as run configurations, and the reports' own figures to set beside ours.

Report 004 compares a DNN, a ConvNet and a ResNet on MNIST (table 1) and for
four learning rates (table 2); report 002 varies dropout, batch size and kernel
size of its 21,840-parameter net (part D). Each experiment here is a list of
``TrainConfig`` that the run engine launches; a preset sets its size: "quick"
runs in minutes on a laptop CPU, "full" is the reports' scale.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from core.training.config import TrainConfig

# Report 004, table 1: (accuracy, macro-F1) of the best model of each kind.
REPORT_004_TABLE1 = {"dnn": (0.965, 0.965), "convnet": (0.991, 0.991), "resnet": (0.992, 0.992)}
# Report 004, table 2: (accuracy, F1) per learning rate.
LEARNING_RATES = (0.1, 0.01, 0.001, 0.0001)
REPORT_004_TABLE2 = {
    "dnn": {0.1: (0.78, 0.77), 0.01: (0.95, 0.95), 0.001: (0.964, 0.964), 0.0001: (0.965, 0.995)},
    "convnet": {0.1: (0.11, 0.02), 0.01: (0.98, 0.98), 0.001: (0.987, 0.987), 0.0001: (0.991, 0.991)},
    "resnet": {0.1: (0.97, 0.98), 0.01: (0.99, 0.98), 0.001: (0.982, 0.982), 0.0001: (0.989, 0.989)},
}
# Report 002, part D: accuracy (%) before and after training, one factor varied at a time.
REPORT_002_GRID = {
    "dropout": {0.3: (12, 97), 0.4: (13, 96), 0.5: (7, 96), 0.6: (6, 96), 0.7: (10, 95)},
    "kernel_size": {4: (7, 96), 5: (10, 96)},
    "batch_size": {40: (10, 96), 80: (12, 94), 100: (8, 94), 120: (10, 92), 150: (10, 92)},
}
GRID_VALUES = {"dropout": (0.3, 0.4, 0.5, 0.6, 0.7), "batch_size": (40, 80, 100, 120, 150),
               "kernel_size": (3, 4, 5)}
GRID_BASE = {"dropout": 0.5, "batch_size": 40, "kernel_size": 5}  # report 002's net as built
# Report 001: the CIFAR-10 scratch CNN's test accuracy.
REPORT_001_CIFAR = 0.82

# Quick: 3 epochs of 6,000 clean digits in batches of 16 (about 1,100 Adam steps) without dropout, which
# only slows a run this short. Measured with bench.bench_quick_preset: 94 steps (2 epochs in batches of
# 128, dropout on) left the ConvNet at 84% and the ResNet at 72% at lr 0.0001 and the ConvNet at 89% at
# 0.01, the opposite of report 004's lesson; these settings give every net its report order at every rate
# from 0.01 to 0.0001 (the README's table). How long a run takes depends on the network and the machine (a
# ResNet run took 136-231 s on a loaded laptop CPU): the pages say what the runs there measured.
PRESETS = {
    "quick": dict(epochs=3, limit=6000, batch_size=16, dropout=0.0, polish_epochs=0, augment=False,
                  writing_styles=False),
    "full": dict(epochs=12, polish_epochs=0, augment=False, writing_styles=False),
}
PRESET_WORDS = {
    "quick": "3 epochs on 6,000 digits, batches of 16, no dropout",
    "full": "12 epochs on all 55,000 training digits (early stopping): the reports' scale, tens of minutes a run",
}


REPORT_GAP = 0.05  # a cell of ours this far (5 points) from the report's is a difference worth a sentence


def _rate(lr: float) -> str:
    return f"{lr:g}" if lr >= 0.001 else f"{lr:.4f}".rstrip("0")


def against_report_004(yours: dict[tuple[str, float], float]) -> list[str]:
    """Where a learning-rate table of ours tells another story than report 004's table 2, one sentence each.

    ``yours`` holds the test accuracy of each (model, learning rate) cell filled so far. Two kinds of difference:
    a cell ``REPORT_GAP`` or more from the report's (the DNN at 0.1: 9.8% where the report kept 78%), and a
    network whose best rate in the report reads fewer digits here than another rate does (0.0001, the report's
    best for the DNN and the ConvNet, behind 0.001 after a quick run's 3 epochs).
    """
    from core.nets import registry

    said = []
    for model, report in REPORT_004_TABLE2.items():
        title = registry.get(model).title
        for lr, (theirs, _) in report.items():
            ours = yours.get((model, lr))
            if ours is not None and abs(ours - theirs) >= REPORT_GAP:
                said.append(f"the {title} at {_rate(lr)} reads {ours:.1%} of the test digits where report 004's "
                            f"{title} {'kept' if ours < theirs else 'read only'} {theirs:.0%}")
        best = max(report, key=lambda lr: report[lr][0])
        mine = {lr: acc for (m, lr), acc in yours.items() if m == model}
        if best in mine:
            rival = max(mine, key=mine.get)
            if mine[rival] > mine[best]:
                said.append(f"the {title} reads fewer at {_rate(best)}, the report's best rate for it, than at "
                            f"{_rate(rival)} ({mine[best]:.1%} against {mine[rival]:.1%})")
    return [s[0].upper() + s[1:] + "." for s in said]


def _span(values: set[float], one: str, many: str, none: str | None = None) -> str:
    """'batches of 16' for one value, 'batches of 40-150' for several; ``none`` for a single 0 (no dropout)."""
    lo, hi = min(values), max(values)
    if lo == hi:
        return none if none is not None and lo == 0 else one.format(f"{lo:g}")
    return many.format(f"{lo:g}-{hi:g}")


def describe(params: list[dict]) -> str:
    """What a set of runs of net002 trained with, from their params (as configs or the store give them):
    '3 epochs on 6,000 digits, batches of 40-150, dropout 0.3-0.7, kernels 3-5'."""
    if not params:
        return ""
    def values(key: str) -> set:
        return {p.get(key) for p in params} - {None, "None"}

    epochs = {int(v) for v in values("epochs")}
    limits = {int(v) for v in values("limit")}
    if any(str(p.get("limit")) == "None" for p in params):  # no limit: every training digit
        limits.add(None)
    data = ("all training digits" if limits == {None} else
            f"{limits.pop():,} digits" if len(limits) == 1 else "a varying number of digits")
    words = [f"{_span(epochs, '{} epochs', '{} epochs')} on {data}",
             _span({int(v) for v in values("batch_size")}, "batches of {}", "batches of {}"),
             _span({float(v) for v in values("dropout")}, "dropout {}", "dropout {}", "no dropout")]
    if values("kernel_size"):
        words.append(_span({int(v) for v in values("kernel_size")}, "kernel {}", "kernels {}"))
    return ", ".join(words)


def seconds_words(finished: list, titles: dict[str, str]) -> str | None:
    """How long a run of each network trained here, measured by the runs in ``finished`` (their
    ``train_seconds``): 'DNN 31-70 s, ResNet 136-231 s a run'. None before any run has finished."""
    spans = {}
    for run in finished:
        seconds = run.metrics.get("train_seconds")
        if seconds is not None:
            spans.setdefault(run.model, []).append(float(seconds))
    if not spans:
        return None
    parts = []
    for model in sorted(spans, key=lambda m: list(titles).index(m) if m in titles else len(titles)):
        lo, hi = min(spans[model]), max(spans[model])
        parts.append(f"{titles.get(model, model)} {lo:.0f} s" if round(lo) == round(hi) else
                     f"{titles.get(model, model)} {lo:.0f}-{hi:.0f} s")
    return ", ".join(parts) + " a run"


def preset(name: str) -> dict:
    """The settings of a preset ("quick" or "full")."""
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; one of {', '.join(PRESETS)}") from None


def matches(params: dict, preset_name: str) -> bool:
    """Whether a run's params (as the store keeps them: strings) are those of the preset ``preset_name``."""
    wanted = preset(preset_name)
    return all(str(params.get(k)) == str(wanted.get(k)) for k in ("epochs", "limit"))


def lr_sweep(models: tuple[str, ...], preset_name: str,
             learning_rates: tuple[float, ...] = LEARNING_RATES) -> list[TrainConfig]:
    """Report 004, table 2: every model at every learning rate."""
    return [TrainConfig(model=m, learning_rate=lr, **preset(preset_name)) for m in models for lr in learning_rates]


def grid(mode: str, preset_name: str) -> list[tuple[TrainConfig, tuple[str, ...]]]:
    """Report 002, part D, on net002: one factor at a time around the base, or the full grid.

    Returns each config with the names of the factors it varies (for labels).
    """
    base = TrainConfig(model="net002", **(preset(preset_name) | GRID_BASE))
    if mode == "one at a time":
        seen, out = set(), []
        for factor, values in GRID_VALUES.items():
            for value in values:
                config = replace(base, **{factor: value})
                key = (config.dropout, config.batch_size, config.kernel_size)
                if key not in seen:
                    seen.add(key)
                    out.append((config, (factor,)))
        return out
    if mode == "full grid":
        return [(replace(base, dropout=d, batch_size=b, kernel_size=k), tuple(GRID_VALUES))
                for d, b, k in itertools.product(*GRID_VALUES.values())]
    raise ValueError(f"unknown grid mode {mode!r}")
