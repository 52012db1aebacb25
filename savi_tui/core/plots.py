"""``training.png`` (train and test loss per epoch, the best epoch marked) and ``confusion_matrix.png``."""

from __future__ import annotations

import io
import os
from pathlib import Path

from savi_tui.core.atomic import atomic_write_bytes
from savi_tui.core.events import EpochRecord

CONFUSION_PLOT = "confusion_matrix.png"


def training_figure(history: list[EpochRecord], best_epoch: int | None, title: str = ""):
    """A matplotlib Figure. Epochs are numbered from 1 and the dashed line stands at the best one."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), dpi=100)
    axes = figure.add_subplot()
    epochs = [record.epoch for record in history]
    axes.plot(epochs, [r.train_loss for r in history], "o-", color="tab:blue", label="train loss")
    axes.plot(epochs, [r.test_loss for r in history], "s-", color="tab:orange", label="test loss")
    if best_epoch is not None:
        axes.axvline(best_epoch, color="black", linestyle="--", linewidth=1, label=f"best epoch ({best_epoch})")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cross-entropy loss")
    axes.set_title(title or "training")
    if epochs:
        axes.set_xticks(range(1, max(epochs) + 1, max(1, len(epochs) // 15)))
    axes.grid(alpha=0.3)
    axes.legend()
    return figure


def render_training_plot(history: list[EpochRecord], best_epoch: int | None, title: str = "") -> bytes:
    buffer = io.BytesIO()
    training_figure(history, best_epoch, title).savefig(buffer, format="png")
    return buffer.getvalue()


def write_training_plot(
    path: str | os.PathLike, history: list[EpochRecord], best_epoch: int | None, title: str = ""
) -> None:
    atomic_write_bytes(path, render_training_plot(history, best_epoch, title))


def confusion_plot_path(experiment_path: str | os.PathLike) -> Path:
    return Path(experiment_path) / CONFUSION_PLOT


def confusion_figure(confusion: list[list[int]], title: str = ""):
    """Rows true, columns predicted, the count in every cell; the shading is the row's share."""
    from matplotlib.figure import Figure

    size = len(confusion)
    shares = [[count / max(sum(row), 1) for count in row] for row in confusion]
    figure = Figure(figsize=(7, 6), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for true in range(size):
        for predicted in range(size):
            color = "white" if shares[true][predicted] > 0.5 else "black"
            axes.text(
                predicted, true, str(confusion[true][predicted]), ha="center", va="center", color=color, fontsize=8
            )
    axes.set_xticks(range(size))
    axes.set_yticks(range(size))
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title or "confusion matrix")
    figure.colorbar(image, ax=axes, label="share of the true class")
    return figure


def write_confusion_plot(path: str | os.PathLike, confusion: list[list[int]], title: str = "") -> None:
    buffer = io.BytesIO()
    confusion_figure(confusion, title).savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
