"""Honest scores for a classifier: accuracy, macro-F1, per-class recall and the confusion matrix."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


def evaluate(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Scores of predicted probabilities ``probs`` (N, classes) against labels ``y_true``."""
    y_pred = np.asarray(probs).argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(probs.shape[1]))
    recall = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    return {
        "test_accuracy": round(float(accuracy_score(y_true, y_pred)), 5),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro")), 5),
        "per_class_recall": [round(float(r), 4) for r in recall],
        "confusion_matrix": cm.tolist(),
        "n_test": int(len(y_true)),
    }
