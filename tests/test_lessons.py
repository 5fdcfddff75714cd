"""Captions computed from a run's curves: diverged and overfitting decided from the numbers."""

import math

from core.lab import lessons


def as_curve(values):
    return [(i + 1, v) for i, v in enumerate(values)]


def test_a_loss_that_ends_above_its_start_or_turns_nan_has_diverged():
    assert lessons.diverged([2.30, 2.35, 2.41])
    assert lessons.diverged([2.3, math.nan])
    assert lessons.diverged([1.0, 0.9], start=0.5)  # above where the first batches began
    assert not lessons.diverged([2.30, 0.40, 0.20])
    assert not lessons.diverged([])


def test_a_slow_learner_at_11_percent_has_not_diverged():
    # A ConvNet that learns slowly: loss falls from 2.30 to 2.05 in two epochs (accuracy still low).
    verdict = lessons.lesson({"batch_loss": as_curve([2.31, 2.2]), "loss": as_curve([2.2, 2.05]),
                              "val_loss": as_curve([2.4, 2.3])})
    assert not verdict.diverged and not verdict.overfitting
    assert verdict.words("ConvNet, run 3") is None


def test_a_run_stuck_above_its_first_batches_is_called_diverged_with_its_numbers():
    verdict = lessons.lesson({"batch_loss": as_curve([2.30, 2.9, 14.0]), "loss": as_curve([8.1, 2.31]),
                              "val_loss": as_curve([2.31, 2.31])})
    assert verdict.diverged
    assert verdict.words("ConvNet") == "ConvNet diverged: its training loss ended at 2.31, above the 2.30 it began at."


def test_overfitting_needs_several_epochs_of_rising_validation_loss_with_falling_training_loss():
    loss = [0.5, 0.3, 0.2, 0.15, 0.10, 0.08]
    assert lessons.overfitting_epochs(loss, [0.40, 0.30, 0.31, 0.33, 0.36, 0.40]) == 4
    assert lessons.overfitting(loss, [0.40, 0.30, 0.31, 0.33, 0.36, 0.40])
    # one rise in a short run (batch norm settling, say) is not overfitting
    assert not lessons.overfitting([0.5, 0.3], [0.4, 0.9])
    # both rising is not overfitting either
    assert not lessons.overfitting([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])
    verdict = lessons.lesson({"loss": as_curve(loss), "val_loss": as_curve([0.40, 0.30, 0.31, 0.33, 0.36, 0.40])})
    assert verdict.overfitting and not verdict.diverged
    assert "rose for 4 epochs in a row" in verdict.words("DNN")


def test_a_preset_is_matched_on_the_params_the_store_keeps_and_the_latest_run_of_a_cell_wins():
    from core.lab import presets, runs

    quick = presets.preset("quick")
    assert presets.matches({"epochs": str(quick["epochs"]), "limit": str(quick["limit"])}, "quick")
    assert not presets.matches({"epochs": "12", "limit": "None"}, "quick")
    older, newer = (runs.RunInfo(str(i), i, "", "dnn", "lr-sweep", "FINISHED", params={"learning_rate": "0.01"})
                    for i in (1, 2))
    latest = runs.latest_by([newer, older], lambda r: (r.model, r.params["learning_rate"]))
    assert latest == {("dnn", "0.01"): newer}
