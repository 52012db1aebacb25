"""Train and test loss per epoch, the running batch loss, and a dashed line at the best epoch.

The legend is drawn on the x-axis label's row, under the plot, so that it never hides the
first epochs' points; the y ticks are each the same number of rows apart.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual_plotext import PlotextPlot

from savi_tui.core.events import EpochRecord

# ANSI colour numbers: plotext draws with them, and the legend uses the same ones.
TRAIN_COLOR = 6  # cyan
TEST_COLOR = 3  # plotext's "orange"
BATCH_COLOR = 8  # gray
BEST_COLOR = 2  # green

TRAIN_MARK, BATCH_MARK, BEST_MARK = "▞", "•", "┊"


def y_axis(low: float, high: float, rows: int) -> tuple[float, float, list[float]]:
    """(bottom, top, ticks) of a y axis drawn on ``rows`` rows, the ticks the same number of rows apart.

    The range hugs the data (a 5% margin), so that a short chart keeps all its rows for the
    curves; each tick is the value of the row it labels: plotext puts a value on row
    floor(0.5 + (rows - 1) * fraction), and the tick ``k * rows_per_tick / (rows - 1)`` of the
    way up lands exactly on row ``k * rows_per_tick``.
    """
    rows = max(rows, 2)
    pad = (high - low) * 0.05 or 0.05
    bottom, top = max(0.0, low - pad), high + pad
    min_gap = 1 if rows <= 10 else 2  # rows from one label to the next
    max_ticks = 6 if rows <= 10 else 9

    def score(per: int) -> tuple:
        count = (rows - 1) // per + 1
        return (not 3 <= count <= max_ticks, (rows - 1) % per, per)  # 3+ ticks, the top row labelled

    per = min(range(min_gap, rows), key=score, default=rows - 1)
    ticks = [bottom + (top - bottom) * row / (rows - 1) for row in range(0, rows, per)]
    return bottom, top, ticks


def tick_labels(ticks: list[float]) -> list[str]:
    """As few decimals as keep each label within a tenth of a step of its value."""
    if len(ticks) < 2:
        return [f"{tick:.2f}" for tick in ticks]
    step = ticks[1] - ticks[0]
    decimals = max(0, math.ceil(math.log10(5 / step) - 1e-9))
    return [f"{tick:.{decimals}f}" for tick in ticks]


class LossChart(PlotextPlot):
    """Call ``show`` with the data; drawing happens on the next refresh, at the widget's size."""

    def __init__(self, title: str = "Loss per epoch", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.history: list[EpochRecord] = []
        self.best_epoch: int | None = None
        self.batch_losses: list[tuple[float, float]] = []
        self.epochs_planned = 0

    def show(
        self,
        history: list[EpochRecord],
        best_epoch: int | None,
        batch_losses: list[tuple[float, float]] | None = None,
        epochs_planned: int = 0,
    ) -> None:
        self.history = list(history)
        self.best_epoch = best_epoch
        self.batch_losses = list(batch_losses or [])
        self.epochs_planned = epochs_planned
        self.refresh()

    @property
    def canvas_rows(self) -> int:
        """Rows of the plot area: the widget less the two x axes, the tick labels, the x label row
        and the title's row."""
        return self.size.height - 4 - (1 if self.title else 0)

    def render(self):
        self._draw()
        chart = super().render()
        lines = chart.split("\n", allow_blank=True)
        if lines and not lines[-1].plain:  # plotext ends with a newline
            lines.pop()
        if lines and (self.history or self.batch_losses):  # the last row is the x label's: the legend goes there
            lines[-1] = self._legend(self.size.width)
        return Text("\n").join(lines)

    def _legend(self, width: int) -> Text:
        def key(mark: str, color: int, label: str) -> Text:
            return Text.assemble((mark, Style(color=f"color({color})")), f" {label}")

        keys = []
        if self.history:
            keys += [key(TRAIN_MARK, TRAIN_COLOR, "train"), key(TRAIN_MARK, TEST_COLOR, "test")]
        if self.best_epoch is not None:
            keys.append(key(BEST_MARK, BEST_COLOR, f"best {self.best_epoch}"))
        if self.batch_losses:
            keys.append(key(BATCH_MARK, BATCH_COLOR, "batch"))
        legend = Text("  ").join(keys)
        if legend.cell_len + 9 <= width:
            legend = Text.assemble(("epoch", "dim"), "    ", legend)
        legend.truncate(width)
        legend.align("center", width)
        return legend

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        if self.title:
            plt.title(self.title)
        plt.xlabel("epoch")
        epochs = [r.epoch for r in self.history]
        losses = [r.train_loss for r in self.history] + [r.test_loss for r in self.history]
        losses += [loss for _, loss in self.batch_losses]
        right = max([self.epochs_planned, *epochs, *(x for x, _ in self.batch_losses), 1])
        plt.xlim(0, right)
        plt.xticks(_epoch_ticks(right))
        if not losses:
            plt.ylim(0, 1)
            return
        rows = self.canvas_rows
        low, high, ticks = y_axis(min(losses), max(losses), rows)
        plt.ylim(low, high)
        plt.yticks(ticks, tick_labels(ticks))
        if self.best_epoch is not None:
            # A column of dotted marks, one per row, reads as a dashed line in any terminal, colour or not.
            ys = [low + (high - low) * row / (rows - 1) for row in range(max(rows, 2))]
            plt.scatter([self.best_epoch] * len(ys), ys, marker=BEST_MARK, color=BEST_COLOR)
        if self.batch_losses:
            xs, ys = zip(*self.batch_losses, strict=False)
            plt.plot(list(xs), list(ys), marker="dot", color=BATCH_COLOR)
        if epochs:
            plt.plot(epochs, [r.train_loss for r in self.history], marker="hd", color=TRAIN_COLOR)
            plt.plot(epochs, [r.test_loss for r in self.history], marker="hd", color=TEST_COLOR)


def _epoch_ticks(right: float) -> list[int]:
    right = int(right)
    step = max(1, -(-right // 8))
    return list(range(0, right + 1, step))
