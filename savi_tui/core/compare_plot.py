"""``comparison.png``: train loss, test loss and test accuracy per epoch of each compared run; a group
as its mean with its members' range shaded."""

from __future__ import annotations

import io
import os

from savi_tui.core.atomic import atomic_write_bytes

CURVES = (("train_loss", "train loss"), ("test_loss", "test loss"), ("test_accuracy", "test accuracy"))
MARKERS = "osD^v<>pPX*h"


def comparison_figure(entries):
    """A matplotlib Figure of ``Compared`` entries (core.compare), one colour and marker each."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(15, 4.8), dpi=100, layout="constrained")
    axes_row = figure.subplots(1, len(CURVES))
    cycle = [f"C{i % 10}" for i in range(len(entries))]
    for axes, (metric, label) in zip(axes_row, CURVES, strict=True):
        for index, entry in enumerate(entries):
            epochs, mean, low, high = entry.curve(metric)
            name = entry.name + (f" (n={len(entry.runs)})" if entry.is_group else "")
            color, marker = cycle[index], MARKERS[index % len(MARKERS)]
            axes.plot(epochs, mean, marker=marker, color=color, label=name, markersize=4)
            if low is not None:
                axes.fill_between(epochs, low, high, color=color, alpha=0.2, linewidth=0)
        axes.set_title(label)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
    axes_row[0].legend(fontsize="small")
    return figure


def write_comparison_plot(path: str | os.PathLike, entries) -> None:
    buffer = io.BytesIO()
    comparison_figure(entries).savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
