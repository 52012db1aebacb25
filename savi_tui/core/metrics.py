"""Confusion matrix → per-class, global (micro) and macro precision, recall, F1.

``confusion[true][predicted]``. The course's "global" figures sum TP, FP and FN
over the classes before dividing (micro averaging); macro averages the
per-class figures.
"""

from __future__ import annotations

from dataclasses import dataclass


def confusion_matrix(labels, predictions, num_classes: int = 10):
    """``[num_classes, num_classes]`` int64 tensor counting (true, predicted) pairs."""
    import torch

    pairs = labels.to(torch.int64) * num_classes + predictions.to(torch.int64)
    return torch.bincount(pairs, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "TP": tp,
        "FP": fp,
        "FN": fn,
        "precision": precision,
        "recall": recall,
        "f1_score": _ratio(2 * precision * recall, precision + recall),
    }


def statistics_from_confusion(confusion: list[list[int]]) -> dict:
    """Per-class, global (micro) and macro scores, accuracy and the matrix itself."""
    size = len(confusion)
    per_class = []
    for digit in range(size):
        tp = confusion[digit][digit]
        fp = sum(confusion[row][digit] for row in range(size)) - tp
        fn = sum(confusion[digit]) - tp
        per_class.append({"digit": digit, **_scores(tp, fp, fn)})
    total = sum(map(sum, confusion))
    glob = _scores(*(sum(c[key] for c in per_class) for key in ("TP", "FP", "FN")))
    macro = {key: sum(c[key] for c in per_class) / size for key in ("precision", "recall", "f1_score")}
    return {
        "per_class": per_class,
        "global": glob,
        "macro": macro,
        "accuracy": _ratio(sum(confusion[i][i] for i in range(size)), total),
        "examples": total,
        "confusion_matrix": [list(map(int, row)) for row in confusion],
    }


@dataclass(frozen=True)
class Confusion:
    """``count`` images of ``true`` were predicted as ``predicted``; ``share`` of all the ``true`` images."""

    true: int
    predicted: int
    count: int
    share: float

    def describe(self, with_share: bool = False) -> str:
        line = f"{self.true} → {self.predicted}: {self.count}"
        return f"{line} ({self.share * 100:.1f} % of the {self.true}s)" if with_share else line


def largest_confusions(confusion: list[list[int]], limit: int | None = 10) -> list[Confusion]:
    """The off-diagonal cells with a count, largest first (ties: by true, then predicted class)."""
    cells = [
        Confusion(true, predicted, count, _ratio(count, sum(row)))
        for true, row in enumerate(confusion)
        for predicted, count in enumerate(row)
        if true != predicted and count
    ]
    cells.sort(key=lambda cell: (-cell.count, cell.true, cell.predicted))
    return cells if limit is None else cells[:limit]


def support(confusion: list[list[int]]) -> list[int]:
    """The number of test images of each true class (TP + FN)."""
    return [sum(row) for row in confusion]
