"""Train on our hands (activity 3): one press writes the class's set and launches a run on the engine.

The run is an ordinary lab run (Ray, tracked in MLflow, filed under the ``class`` lab) of the ``class`` recipe
(``core.training.class_finetune``); its card carries the class set's hash, and its network can be read on the
Draw page like any network trained in the lab.
"""

from __future__ import annotations

from core.classroom import dataset, store
from core.lab import engine, runs

LAB = "class"


def train_on_class(code: str, secret: str, model: str = "resnet", epochs: int = 3, **settings) -> runs.RunInfo:
    """Launch the fine-tuning of Draw network ``model`` on class ``code`` (the teacher's action); returns the run.

    ``settings``: other ``ClassConfig`` fields (a smaller run for a test)."""
    if not store.is_teacher(code, secret):
        raise store.NotAllowed("only the class's teacher can do this (the teacher's address or PIN)")
    from core.training.class_finetune import ClassConfig

    data = dataset.class_data(code)
    config = ClassConfig(model=model, data=str(dataset.write(data, code)), data_sha256=data.sha256, epochs=epochs,
                         **settings)
    return engine.launch(config, LAB, group=f"{LAB}:{store.class_info(code).code}")


def end_class(code: str, secret: str) -> None:
    """The teacher ends the class: its training runs (a network taught by its students' drawings, and the card
    naming their set) are deleted with it, then the class and its drawings (``store.end_class``)."""
    if not store.is_teacher(code, secret):
        raise store.NotAllowed("only the class's teacher can do this (the teacher's address or PIN)")
    _delete_runs(code)
    store.end_class(code, secret)


def delete_class(code: str) -> None:
    """``python -m core class delete``: the class, its drawings and its runs, without the teacher's secret."""
    _delete_runs(code)
    store.delete_class(code)


def _delete_runs(code: str) -> None:
    if not runs.store_exists():  # no run store yet: the class never trained
        return
    for run in runs.search(lab=LAB, group=f"{LAB}:{store.class_info(code).code}"):
        runs.delete(run.run_id)
