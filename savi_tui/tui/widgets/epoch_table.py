"""One row per finished epoch, with a mark at the best one."""

from __future__ import annotations

from textual.widgets import DataTable

from savi_tui.core.events import EpochRecord

BEST_MARK = "★"


class EpochTable(DataTable):
    COLUMNS = ("Epoch", "Train", "Test", "Acc.", "F1", "Time", "Best")

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
            self.add_row(
                str(record.epoch),
                f"{record.train_loss:.4f}",
                f"{record.test_loss:.4f}",
                f"{record.test_accuracy:.2%}",
                f"{record.f1:.4f}",
                f"{record.seconds:.1f}s",
                BEST_MARK if record.epoch == best_epoch else "",
                key=str(record.epoch),
            )
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1)
