"""A finished experiment with a fixed confusion matrix, statistics.json and predictions.bin (no torch)."""

from __future__ import annotations

import random
from pathlib import Path

from tui_helpers import make_experiment

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.metrics import statistics_from_confusion
from savi_tui.core.predictions import Predictions, predictions_path, write_predictions

METRICS_NAME = "mnist-convnet-done"
BEST_EPOCH = 8


def fixed_confusion() -> list[list[int]]:
    """About 1,000 test images a class; 4 → 9 is the largest confusion (12), then 2 → 7 (9)."""
    confusion = [[0] * 10 for _ in range(10)]
    errors = {(4, 9): 12, (2, 7): 9, (9, 4): 7, (7, 2): 5, (3, 5): 4, (5, 3): 3, (8, 3): 2, (6, 0): 1, (1, 7): 1}
    for digit in range(10):
        confusion[digit][digit] = 980 + digit
    for (true, predicted), count in errors.items():
        confusion[true][predicted] = count
    return confusion


def digit_pixels(digit: int, seed: int) -> bytes:
    """A 28x28 image: a bright bar whose place says the digit, on faint fixed noise."""
    rng = random.Random(seed)
    image = bytearray(rng.randrange(0, 40) for _ in range(28 * 28))
    row, col = 2 + (digit // 5) * 12, 2 + (digit % 5) * 5
    for r in range(row, row + 12):
        for c in range(col, col + 4):
            image[r * 28 + c] = 255
    return bytes(image)


def make_metrics_experiment(root: Path, name: str = METRICS_NAME, *, with_predictions: bool = True) -> Path:
    """An experiment as a finished run leaves it: progress, statistics.json and predictions.bin."""
    path = make_experiment(
        root, name, model="ModelConvNet", epochs_done=10, epochs_planned=10, best=BEST_EPOCH, finished=True
    )
    confusion = fixed_confusion()
    statistics = {"experiment": name, "epoch": BEST_EPOCH, **statistics_from_confusion(confusion)}
    atomic_write_json(path / "statistics.json", statistics)
    if with_predictions:
        true, predicted, confidence, pixels = bytearray(), bytearray(), [], bytearray()
        for t, row in enumerate(confusion):
            for p, count in enumerate(row):
                for k in range(count):
                    true.append(t)
                    predicted.append(p)
                    confidence.append(0.5 + ((7 * k + t + p) % 50) / 100)
                    if t != p:
                        pixels += digit_pixels(t, seed=len(true))
        write_predictions(
            predictions_path(path),
            Predictions(BEST_EPOCH, bytes(true), bytes(predicted), confidence, bytes(pixels), {"dataset": "mnist"}),
        )
    return path
