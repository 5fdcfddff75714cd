"""Honest scores for a classifier: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def evaluate(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Scores of predicted probabilities ``probs`` (N, classes) against labels ``y_true``."""
    y_pred = np.asarray(probs).argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(probs.shape[1]))
    recall = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    precision, _, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=np.arange(probs.shape[1]),
                                                          zero_division=0)
    return {
        "test_accuracy": round(float(accuracy_score(y_true, y_pred)), 5),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro")), 5),
        "per_class_precision": [round(float(p), 4) for p in precision],
        "per_class_recall": [round(float(r), 4) for r in recall],
        "per_class_f1": [round(float(f), 4) for f in f1],
        "confusion_matrix": cm.tolist(),
        "n_test": int(len(y_true)),
    }
