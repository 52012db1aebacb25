"""One row per finished epoch; the best one is marked with a star and drawn bold green."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from savi_tui.core.events import EpochRecord

BEST_MARK = "★"


class EpochTable(DataTable):
    COLUMNS = ("Epoch", "Train", "Test", "Acc.", "F1", "Time")

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        for label in self.COLUMNS:
            self.add_column(label, key=label)

    def show(self, history: list[EpochRecord], best_epoch: int | None) -> None:
        """Redraw all rows (a run has at most a few hundred), keeping the cursor at the newest."""
        at_end = self.cursor_row >= self.row_count - 1
        self.clear()
        for record in history:
            best = record.epoch == best_epoch
            cells = (
                f"{record.epoch} {BEST_MARK}" if best else str(record.epoch),
                f"{record.train_loss:.4f}",
                f"{record.test_loss:.4f}",
                f"{record.test_accuracy:.2%}",
                f"{record.f1:.4f}",
                f"{record.seconds:.1f}s",
            )
            self.add_row(*(Text(cell, style="bold green" if best else "") for cell in cells), key=str(record.epoch))
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1)
