"""One table of every trained network: the shipped ones (from their cards) and the lab's finished runs.

The Compare page shows it; it is full on a fresh start, before any run, because
the shipped models' cards hold their scores, epochs, training time and device.
"""

from __future__ import annotations

from core.lab import runs
from core.nets import registry


def _row(name: str, card: dict, source: str) -> dict:
    return {
        "name": name,
        "network": registry.get(name).title if source == "shipped" else card.get("label", name),
        "data": card.get("dataset") or registry.get(name).dataset,  # a model without its card: its spec
        "source": source,
        "test accuracy": card.get("test_accuracy"),
        "macro-F1": card.get("macro_f1"),
        "parameters": card.get("params"),
        "epochs": card.get("epochs_run"),
        "training s": card.get("train_seconds"),
        "device": card.get("device", ""),
    }


def shipped_rows() -> list[dict]:
    """The shipped models, from their cards."""
    return [_row(n, registry.card(n) or {}, "shipped") for n in registry.available(dataset=None)]


def run_rows(dataset: str | None = None) -> list[dict]:
    """The lab's finished runs that saved a model, newest first."""
    rows = []
    for run in runs.search(status=["FINISHED"], dataset=dataset):
        if not run.has_model:
            continue
        m = run.metrics
        rows.append(_row(f"{registry.RUN_PREFIX}{run.run_id}", {
            "label": run.label, "dataset": run.dataset, "test_accuracy": m.get("test_accuracy"),
            "macro_f1": m.get("macro_f1"), "params": int(m["params"]) if "params" in m else None,
            "epochs_run": int(m["epochs_run"]) if "epochs_run" in m else None,
            "train_seconds": m.get("train_seconds"), "device": run.device}, f"lab: {run.lab}"))
    return rows
