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
    verdict = lessons.lesson({"batch_loss": as_curve([2.20, 2.9, 4.0]), "loss": as_curve([3.1, 2.6]),
                              "val_loss": as_curve([2.7, 2.6])})
    assert verdict.diverged and not verdict.exploded and not verdict.guessing
    assert verdict.words("ConvNet") == "ConvNet diverged: its training loss ended at 2.60, above the 2.20 it began at."


def test_the_dnn_at_lr_0_1_blew_up_in_its_first_batches_and_ended_guessing():
    """The losses a real quick run of the DNN at learning rate 0.1 recorded (3 epochs on 6,000 digits, batches of
    16): its first batches' loss is already 619, so its last (2.32) is below where it "began", as the old verdict
    read it; it exploded, then sat at ln 10 and read 9.82% of the test digits. tests/test_lab_pages.py trains it."""
    batches = [619.511, 7.305, 2.548, 2.21, 2.7, 2.39, 2.326, 2.278, 2.35, 2.319, 2.313, 2.322, 2.318, 2.32]
    verdict = lessons.lesson({"batch_loss": as_curve(batches), "loss": as_curve([16.156, 2.314, 2.31914]),
                              "val_loss": as_curve([2.3191, 2.31211, 2.33743])}, 10, 0.0982)
    assert verdict.diverged and verdict.exploded and verdict.guessing
    assert verdict.words("The DNN at learning rate 0.1") == (
        "The DNN at learning rate 0.1 diverged: its training loss jumped to 620 on the way (a fresh net's is about "
        "2.30), then sat at 2.32, ln 10 = 2.30, the loss of guessing: it reads 9.8% right, where guessing scores "
        "about 10%.")
    # Compare's curves have no batch losses: the first epoch's mean (16.2) still shows the explosion.
    assert lessons.lesson({"loss": as_curve([16.156, 2.314, 2.31914])}, 10).diverged


def test_ending_at_the_loss_of_guessing_is_diverged_but_a_low_accuracy_with_a_falling_loss_is_not():
    assert lessons.guessing(2.30, 0.098) and lessons.guessing(2.31)  # ln 10 = 2.303
    assert not lessons.guessing(2.10, 0.1135)  # a slow learner: its loss fell well below ln 10
    assert not lessons.guessing(2.30, 0.45)  # reads nearly half: not chance
    assert lessons.guessing(math.log(26) + 0.01, 0.04, n_classes=26)  # letters
    assert lessons.diverged([2.3, 2.2, 2.301], accuracy=0.1)
    assert not lessons.exploded([2.3, 4.0, 0.3]) and lessons.exploded([2.3, 59.0, 2.3])


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
