"""Train and test loss per epoch, the running batch loss, and a dashed line at the best epoch."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from savi_tui.core.events import EpochRecord

TRAIN_COLOR = "cyan"
TEST_COLOR = "orange"
BATCH_COLOR = "gray"
BEST_COLOR = "green"


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

    def render(self):
        self._draw()
        return super().render()

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
        low, high = min(losses), max(losses)
        pad = (high - low) * 0.05 or 0.05
        low, high = max(0.0, low - pad), high + pad
        plt.ylim(low, high)
        if self.best_epoch is not None:
            # A column of dotted marks reads as a dashed line in any terminal, colour or not.
            rows = max(2, self.size.height - 4)
            ys = [low + (high - low) * i / (rows - 1) for i in range(rows)]
            plt.scatter([self.best_epoch] * rows, ys, marker="┊", color=BEST_COLOR, label=f"best ({self.best_epoch})")
        if self.batch_losses:
            xs, ys = zip(*self.batch_losses, strict=False)
            plt.plot(list(xs), list(ys), marker="dot", color=BATCH_COLOR, label="batch")
        if epochs:
            plt.plot(epochs, [r.train_loss for r in self.history], marker="hd", color=TRAIN_COLOR, label="train")
            plt.plot(epochs, [r.test_loss for r in self.history], marker="hd", color=TEST_COLOR, label="test")


def _epoch_ticks(right: float) -> list[int]:
    right = int(right)
    step = max(1, -(-right // 8))
    return list(range(0, right + 1, step))
