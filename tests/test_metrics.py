"""core.base.metrics.evaluate on small examples worked out by hand."""

import numpy as np
import pytest

from core.base.metrics import evaluate

# Three classes, seven examples; class 2 is in the labels but never predicted.
Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 0, 1, 0])
#                    predicted 0  1  2
HAND_CONFUSION = [[1, 1, 0],  # true 0
                  [1, 2, 0],  # true 1
                  [1, 1, 0]]  # true 2


def one_hot(pred: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[pred]


def test_a_hand_checked_example_with_a_class_never_predicted():
    scores = evaluate(Y_TRUE, one_hot(Y_PRED, 3))
    assert scores["confusion_matrix"] == HAND_CONFUSION  # rows: true class, columns: predicted
    assert scores["n_test"] == 7
    assert scores["test_accuracy"] == 0.42857  # 3 of 7
    # precision: 1/3 of the 0s predicted, 2/4 of the 1s, and no 2 was predicted (0, not a division by zero)
    assert scores["per_class_precision"] == [0.3333, 0.5, 0.0]
    # recall: 1 of 2 zeros, 2 of 3 ones, 0 of 2 twos
    assert scores["per_class_recall"] == [0.5, 0.6667, 0.0]
    # F1 = 2PR / (P + R): 0.4, 4/7, and 0 for the class never predicted
    assert scores["per_class_f1"] == [0.4, 0.5714, 0.0]
    assert scores["macro_f1"] == pytest.approx((0.4 + 4 / 7 + 0.0) / 3, abs=1e-5)  # 0.32381
    assert scores["macro_f1"] == 0.32381


def test_answers_are_the_most_probable_class_not_a_threshold():
    # Soft probabilities with the same argmax as Y_PRED: the same scores.
    rng = np.random.default_rng(0)
    probs = rng.uniform(0.0, 0.3, size=(7, 3)).astype(np.float32)
    probs[np.arange(7), Y_PRED] = 0.4
    assert evaluate(Y_TRUE, probs) == evaluate(Y_TRUE, one_hot(Y_PRED, 3))


def test_all_right_and_all_wrong():
    y = np.array([0, 1, 2, 2])
    right = evaluate(y, one_hot(y, 3))
    assert right["test_accuracy"] == 1.0 and right["macro_f1"] == 1.0
    assert right["per_class_precision"] == right["per_class_recall"] == right["per_class_f1"] == [1.0, 1.0, 1.0]
    assert right["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    wrong = evaluate(y, one_hot((y + 1) % 3, 3))
    assert wrong["test_accuracy"] == 0.0 and wrong["macro_f1"] == 0.0
    assert wrong["confusion_matrix"] == [[0, 1, 0], [0, 0, 1], [2, 0, 0]]


def test_a_class_with_no_test_examples_still_has_its_row_and_column():
    # The probabilities have a fourth class that is neither a label nor an answer.
    scores = evaluate(Y_TRUE, one_hot(Y_PRED, 4))
    assert scores["confusion_matrix"] == [row + [0] for row in HAND_CONFUSION] + [[0, 0, 0, 0]]
    assert scores["per_class_recall"] == [0.5, 0.6667, 0.0, 0.0]  # no examples: 0, not a division by zero
    assert scores["per_class_f1"] == [0.4, 0.5714, 0.0, 0.0]
    # macro-F1 averages over the classes seen in the labels or the answers (scikit-learn's rule), so the
    # empty fourth class does not pull it down; it is then not the mean of per_class_f1.
    assert scores["macro_f1"] == 0.32381


def test_the_scores_are_plain_json_types():
    import json

    scores = evaluate(Y_TRUE, one_hot(Y_PRED, 3))
    assert json.loads(json.dumps(scores)) == scores  # cards and run artifacts are JSON
    assert isinstance(scores["n_test"], int) and isinstance(scores["confusion_matrix"][0][0], int)
