"""What a training run shows while it trains: its time left and its live curves.

The trainer's ``Reporter`` and the worker's ``engine.Progress`` are driven here as ``model.fit`` and the run
engine drive them, on a fake clock: a slow start (data, model, tracing), then steady batches whose loss and
accuracy Keras hands over as running means that restart at every epoch. No training, no Ray.
"""

from __future__ import annotations

import math
import types

import pytest

from core.lab import engine, runs
from core.training import kit, train

EPOCHS, BATCHES = 3, 94  # 6,000 digits in batches of 64
BATCH_S, EVERY_S, VAL_S = 0.15, 1.0, 1.5  # a batch, the reporter's period, an epoch's validation
START_S, TRACE_S, FINAL_S = 25.0, 4.0, 3.0  # before the first batch; the first batch's tracing; after the last
WINDOW = math.ceil(EVERY_S / BATCH_S) + 1  # the most batches between two reported points


def loss_at(i: int) -> float:
    """The loss of batch ``i`` (counted over all epochs): falling, quickly at first."""
    return 0.3 + 2.0 * math.exp(-i / 60)


def accuracy_at(i: int) -> float:
    return 0.97 - 0.87 * math.exp(-i / 60)


class Clock:
    """A fake clock for both sides: the reporter's ``time.perf_counter`` and the worker's clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    perf_counter = monotonic = __call__


class Recorder:
    """The worker's recorder, synchronous: writes to the store when given a run, and keeps every point."""

    def __init__(self, run_id: str | None = None) -> None:
        self.run_id, self.points = run_id, []

    def put(self, log, step: int, metrics: dict) -> None:
        self.points.append((step, dict(metrics)))
        if self.run_id is not None:
            log(self.run_id, step, metrics)


def simulate(run_id: str | None = None, stop_after: int | None = None, epochs: int = EPOCHS):
    """A run as the worker sees it: returns its recorder, the clock, the times at which each point was recorded,
    and when the run would end. ``stop_after``: stop after that many batches in all (a run still training)."""
    clock = Clock()
    real_time, kit.time = kit.time, clock  # the reporter's clock (its module's ``time``), for this run only
    try:
        return _simulate(clock, run_id, stop_after, epochs)
    finally:
        kit.time = real_time


def _simulate(clock: Clock, run_id: str | None, stop_after: int | None, epochs: int):
    recorder = Recorder(run_id)
    times: list[float] = []
    progress = engine.Progress(run_id or "run", recorder, clock=clock)
    put = recorder.put
    recorder.put = lambda log, step, metrics: (times.append(clock.t), put(log, step, metrics))
    config = train.TrainConfig(model="net002", epochs=epochs, batch_size=64, limit=BATCHES * 64, polish_epochs=0,
                               augment=False, writing_styles=False)
    clock.t += START_S  # the recipe loads its data, builds and scores the untrained net
    reporter = kit.Reporter(config, BATCHES, progress, None, None, every_s=EVERY_S)
    reporter.set_model(types.SimpleNamespace(optimizer=types.SimpleNamespace(learning_rate=0.001)))
    reporter.after_s = FINAL_S * 1.3  # as train() guesses it from scoring the untrained net: roughly
    done = 0
    for epoch in range(epochs):
        reporter.on_epoch_begin(epoch)
        loss_sum = acc_sum = 0.0
        for batch in range(BATCHES):
            i = epoch * BATCHES + batch
            clock.t += BATCH_S + (TRACE_S if i == 0 else 0.0)
            loss_sum, acc_sum = loss_sum + loss_at(i), acc_sum + accuracy_at(i)
            # Keras' logs: the means of the epoch so far.
            reporter.on_train_batch_end(batch, {"loss": loss_sum / (batch + 1), "accuracy": acc_sum / (batch + 1)})
            done += 1
            if stop_after is not None and done >= stop_after:
                return recorder, clock, times, None
        clock.t += VAL_S
        reporter.on_epoch_end(epoch, {"loss": loss_sum / BATCHES, "accuracy": acc_sum / BATCHES,
                                      "val_loss": loss_at(i) + 0.05, "val_accuracy": accuracy_at(i) - 0.01})
    return recorder, clock, times, clock.t + FINAL_S


# --- time left ------------------------------------------------------------------------------------------------


def test_time_left_comes_from_measured_batches_not_from_the_start_up():
    recorder, _, times, end = simulate()
    estimates = [(t, m["eta_s"]) for t, (_, m) in zip(times, recorder.points) if "eta_s" in m]
    assert estimates, "no time left was ever given"
    first_t, first = estimates[0]
    truth = end - first_t
    print(f"first time left {first:.1f} s, truth {truth:.1f} s")
    assert truth / 2 <= first <= 2 * truth, f"first time left {first:.0f} s; {truth:.0f} s were left"
    # And all along; in the last seconds, short by no more than what no batch measures: the last validation
    # and the final evaluation.
    for t, eta in estimates:
        left = end - t
        assert left / 2 <= eta + VAL_S + FINAL_S and eta <= 2 * left, f"at {t:.1f} s: {eta:.0f} s said, {left:.0f} true"
        if left > 15:
            assert left / 2 <= eta, f"at {t:.1f} s: {eta:.0f} s left said, {left:.0f} true"
    # The first point shown (the first batch) is not blocked on it: progress is shown at once.
    assert "progress" in recorder.points[0][1]


def test_the_tests_time_counts_the_first_calls_tracing_once_not_per_image():
    """Scoring the untrained net: 500 images in 3.0 s (2.5 s of it tracing), then 1,500 in 1.5 s. The 10,000 test
    images take 2.5 + 10 s, not the 4.5 s of the 2,000 scaled by five (22.5 s): on a busy machine that slow first
    call made a run's last time left 64 s where 18 s were left."""
    assert train.testing_seconds(3.0, 500, 1.5, 1500, 10_000) == pytest.approx(12.5)
    assert train.testing_seconds(0.4, 500, 1.2, 1500, 10_000) == pytest.approx(8.0)  # no tracing seen: per image
    assert train.testing_seconds(0.3, 3, 0.0, 0, 30) == pytest.approx(3.0)  # too few to split: scaled as read


def test_time_left_is_not_given_before_anything_was_measured():
    recorder, _, _, _ = simulate(stop_after=1)  # only the first batch, whose time was the tracing
    assert len(recorder.points) == 1
    assert "eta_s" not in recorder.points[0][1]


# --- live curves ----------------------------------------------------------------------------------------------


def recorded_run(stop_after: int | None = None) -> runs.RunInfo:
    config = train.TrainConfig(model="net002", epochs=EPOCHS, batch_size=64, limit=BATCHES * 64, polish_epochs=0,
                               augment=False, writing_styles=False)
    run = runs.create(config.params() | {"dataset": "mnist", "learning_rate": config.lr}, "net002", "compare", "local")
    runs.client().update_run(run.run_id, status="RUNNING")
    simulate(run.run_id, stop_after=stop_after)
    return runs.get(run.run_id)


def traces(fig) -> dict[tuple[str, str], object]:
    """The figure's traces by (panel x axis, name): ('x', ...) is loss, ('x2', ...) accuracy."""
    return {(t.xaxis or "x", t.name): t for t in fig.data}


def test_live_curves_show_loss_and_accuracy_from_the_first_batches(run_store):
    from app_pages.ui.run_panel import live_curve

    run = recorded_run(stop_after=20)  # three points in the first epoch: no epoch has ended yet
    fig = live_curve(run)
    by = traces(fig)
    loss, acc = by[("x", "train (batches)")], by[("x2", "train (batches)")]
    assert len(loss.x) >= 2 and len(acc.x) >= 2
    assert all(0 < x < 1 for x in loss.x) and all(0.0 <= y <= 1.0 for y in acc.y)
    assert list(fig.layout.yaxis2.range) == [0, 1]  # accuracy on its whole scale, not an empty -1..4
    assert fig.layout.yaxis.rangemode == "tozero"
    for axis in (fig.layout.xaxis, fig.layout.xaxis2):
        assert list(axis.range) == [0, EPOCHS]


def test_live_curves_run_on_across_epochs_without_a_jump(run_store):
    from app_pages.ui.run_panel import live_curve

    run = recorded_run()
    by = traces(live_curve(run))
    for name, truth, falling in (("x", loss_at, True), ("x2", accuracy_at, False)):
        trace = by[(name, "train (batches)")]
        points = list(zip(trace.x, trace.y))
        assert len(points) > 3 * EPOCHS
        ends = [round(x * BATCHES) - 1 for x, _ in points]  # the last batch of each point's window
        for (i0, (_, y0)), (i1, (x1, y1)) in zip(zip(ends, points), zip(ends[1:], points[1:])):
            if i1 // BATCHES > i0 // BATCHES:  # across an epoch's end: no more than the curve itself moves
                most = abs(truth(i1) - truth(max(i0 - WINDOW, 0)))
                assert abs(y1 - y0) <= most + 1e-4, f"{name} jumps {y1 - y0:+.3f} at epoch {x1:.2f}"
        for i, (_, y) in zip(ends, points):
            # A point is the mean of the batches since the one before: between the truth there and a window back.
            lo, hi = sorted((truth(i), truth(max(i - WINDOW, 0))))
            assert lo - 1e-4 <= y <= hi + 1e-4, f"{name} at batch {i}: {y:.4f} outside [{lo:.4f}, {hi:.4f}]"
        ys = [y for _, y in points]
        assert ys == sorted(ys, reverse=falling)
    # The finished epochs' validation points sit beside them.
    assert len(by[("x", "validation")].x) == EPOCHS and len(by[("x2", "validation")].x) == EPOCHS


@pytest.mark.parametrize("stop_after", [1, 2])
def test_live_curves_of_a_run_that_just_started(run_store, stop_after):
    from app_pages.ui.run_panel import live_curve

    fig = live_curve(recorded_run(stop_after=stop_after))
    by = traces(fig)
    loss = by[("x", "train (batches)")]
    assert len(loss.x) == 1 and "markers" in loss.mode  # one point so far: a line would show nothing
    assert list(fig.layout.yaxis2.range) == [0, 1]
