"""Experiments of a study on disk, as the trainer leaves them (config with its group, progress,
statistics.json, summary.txt; no checkpoints, no torch), for the compare and group tests."""

from __future__ import annotations

import os
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.config import TrainConfig
from savi_tui.core.events import EpochRecord
from savi_tui.core.experiments import create_experiment
from savi_tui.core.metrics import statistics_from_confusion
from savi_tui.core.progress import Progress, write_progress

STAMP = 1_773_489_600.0  # 2026-03-14 12:00 UTC


def confusion_with_errors(errors_per_class: list[int], support: int = 100) -> list[list[int]]:
    """``support`` examples of each digit, ``errors_per_class[d]`` of them taken for the next digit."""
    size = len(errors_per_class)
    matrix = [[0] * size for _ in range(size)]
    for digit, errors in enumerate(errors_per_class):
        matrix[digit][digit] = support - errors
        matrix[digit][(digit + 1) % size] += errors
    return matrix


def make_run(
    root: Path,
    name: str,
    *,
    group: str | None = None,
    seed: int = 0,
    model: str = "ModelConvNet",
    learning_rate: float = 1e-3,
    epochs: int = 3,
    best_loss: float | None = None,
    accuracy: float = 0.98,
    errors_per_class: list[int] | None = None,
    parameters: int | None = 206_922,
    seconds: float = 10.0,
    finished: bool = True,
    minutes: int = 0,
) -> Path:
    """A finished run whose best (last) epoch has ``best_loss`` (default: from the accuracy) and
    ``accuracy``; statistics.json from a confusion matrix with ``errors_per_class``."""
    best_loss = round((1 - accuracy) * 2.5, 6) if best_loss is None else best_loss
    config = TrainConfig(model=model, epochs=epochs, seed=seed, learning_rate=learning_rate, group=group)
    experiment = create_experiment(root, name, config)
    records = tuple(
        EpochRecord(
            epoch,
            train_loss=best_loss * 2 + 0.1 * (epochs - epoch),
            test_loss=best_loss + 0.05 * (epochs - epoch),
            test_accuracy=accuracy - 0.01 * (epochs - epoch),
            f1=accuracy - 0.01 * (epochs - epoch),
            seconds=seconds,
        )
        for epoch in range(1, epochs + 1)
    )
    write_progress(
        experiment.progress_path,
        Progress(
            epochs_planned=epochs,
            history=records,
            batches_per_epoch=118,
            finished=finished,
            best_epoch=epochs,
            best_test_loss=best_loss,
            updated="2026-03-14T12:00:00+00:00",
        ),
    )
    statistics = statistics_from_confusion(confusion_with_errors(errors_per_class or [1] * 10))
    atomic_write_json(experiment.statistics_path, {"experiment": name, "epoch": epochs, **statistics})
    if parameters is not None:
        experiment.summary_path.write_text(f"...\nTotal params: {parameters:,}\nTrainable params: {parameters:,}\n")
    stamp = STAMP + 60 * minutes
    for entry in [*experiment.path.iterdir(), experiment.path]:
        os.utime(entry, (stamp, stamp))
    return experiment.path


def make_group(root: Path, group: str, accuracies: list[float], **options) -> list[Path]:
    """One run per seed, named GROUP-s0, GROUP-s1, ..., with the given best accuracies."""
    return [
        make_run(root, f"{group}-s{seed}", group=group, seed=seed, accuracy=accuracy, **options)
        for seed, accuracy in enumerate(accuracies)
    ]
