"""Per-class, global (micro) and macro metrics from a confusion matrix."""

import pytest
import torch

from savi_tui.core.metrics import confusion_matrix, statistics_from_confusion


def test_confusion_counts_true_rows_and_predicted_columns():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    matrix = confusion_matrix(labels, predictions, num_classes=3).tolist()
    assert matrix == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_per_class_global_and_macro_figures():
    stats = statistics_from_confusion([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    zero, one, two = stats["per_class"]
    assert (zero["TP"], zero["FP"], zero["FN"]) == (1, 1, 1)
    assert zero["precision"] == pytest.approx(0.5) and zero["recall"] == pytest.approx(0.5)
    assert (one["TP"], one["FP"], one["FN"]) == (1, 1, 0)
    assert one["precision"] == pytest.approx(0.5) and one["recall"] == pytest.approx(1.0)
    assert one["f1_score"] == pytest.approx(2 / 3)
    assert (two["TP"], two["FP"], two["FN"]) == (2, 0, 1)
    # global: sums of TP, FP, FN over classes, as the course defines it
    assert stats["global"]["TP"] == 4 and stats["global"]["FP"] == 2 and stats["global"]["FN"] == 2
    assert stats["global"]["precision"] == pytest.approx(4 / 6)
    assert stats["global"]["f1_score"] == pytest.approx(stats["accuracy"])
    assert stats["macro"]["recall"] == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)
    assert stats["examples"] == 6


def test_a_class_never_predicted_scores_zero_not_nan():
    stats = statistics_from_confusion([[2, 0], [1, 0]])
    assert stats["per_class"][1]["precision"] == 0.0
    assert stats["per_class"][1]["f1_score"] == 0.0
