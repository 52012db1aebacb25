"""The experiments as a table: the columns that fit its width, sorted by any column, filtered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from savi_tui.core.experiment_row import experiment_row
from savi_tui.tui.state_styles import STATE_STYLES

# column key → (label, sort key of an ExperimentInfo)
COLUMNS = {
    "name": ("Name", lambda i: i.name),
    "state": ("State", lambda i: i.state),
    "epochs": ("Epochs", lambda i: (i.epochs_done, i.epochs_planned)),
    "best": ("Best", lambda i: i.best_epoch or 0),
    "loss": ("Test loss", lambda i: (i.best_test_loss is None, i.best_test_loss or 0.0)),
    "f1": ("F1", lambda i: i.f1 or 0.0),
    "modified": ("Modified", lambda i: i.modified),
    "model": ("Model", lambda i: i.model),
    "dataset": ("Dataset", lambda i: i.dataset),
}
# The columns a narrow terminal drops first (the detail pane shows them all): name and state always stay.
DROP_ORDER = ("dataset", "model", "best", "f1", "modified", "epochs", "loss")
SORT_CYCLE = ("modified", "name", "state", "loss", "f1", "epochs", "best", "model", "dataset")


def fitting_columns(widths: dict[str, int], available: int) -> list[str]:
    """The columns (in table order) that fit ``available`` cells, dropping them in ``DROP_ORDER``."""
    shown = list(widths)
    for key in DROP_ORDER:
        if sum(widths[k] for k in shown) <= available:
            break
        shown.remove(key)
    return shown


class ExperimentsTable(DataTable):
    """One row per experiment (keyed by its name); ``show``, ``filter`` and the sorts redraw it."""

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        # The state keeps its colour on the highlighted row too, so the column reads the same on every row.
        super().__init__(cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable", **kwargs)
        self.clock = clock
        self.infos: list = []
        self.needle = ""
        self.sort_column = "modified"
        self.sort_reverse = True
        self.shown_columns: list[str] = []
        self._shown_labels: list[str] = []

    def on_mount(self) -> None:
        self._show_columns(list(COLUMNS))  # narrowed to the width once the experiments are listed

    # -- what it shows -------------------------------------------------------

    def show(self, infos: list) -> None:
        self.infos = infos
        self.refill()

    def filter(self, text: str) -> None:
        """Keep the rows whose name, model, dataset or state contains ``text`` (any case)."""
        self.needle = text.strip().lower()
        self.refill()

    def visible_infos(self) -> list:
        needle = self.needle
        infos = [
            info
            for info in self.infos
            if not needle or any(needle in str(v).lower() for v in (info.name, info.model, info.dataset, info.state))
        ]
        return sorted(infos, key=COLUMNS[self.sort_column][1], reverse=self.sort_reverse)

    def refill(self) -> None:
        """Rows and columns again, for the infos, filter, sort and width as they are now."""
        selected = self.selected_name()
        infos = self.visible_infos()
        self._show_columns(self._fitting_columns())
        rows = [self._row(info) for info in infos]
        current = [(row_key.value, self.get_row(row_key)) for row_key in self.rows]
        if current != [(info.name, row) for info, row in zip(infos, rows, strict=False)]:
            self.clear()
            for info, row in zip(infos, rows, strict=False):
                self.add_row(*row, key=info.name)
            if selected and selected in [info.name for info in infos]:
                self.move_cursor(row=self.get_row_index(selected))

    def selected_info(self):
        name = self.selected_name()
        return next((info for info in self.infos if info.name == name), None)

    def selected_name(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor is past the rows while the table refills
            return None

    # -- sorting -------------------------------------------------------------

    def sort_next(self) -> None:
        """By the next column of ``SORT_CYCLE``, in the order that column is most useful in."""
        self.sort_column = SORT_CYCLE[(SORT_CYCLE.index(self.sort_column) + 1) % len(SORT_CYCLE)]
        self.sort_reverse = self.sort_column in ("modified", "epochs", "f1")
        self.refill()

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.refill()

    def sort_by(self, column: str) -> None:
        """A click on a header: that column ascending, or the other way round if it is the sort already."""
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.refill()

    def sort_description(self) -> str:
        order = "descending" if self.sort_reverse else "ascending"
        return f"Sorted by {COLUMNS[self.sort_column][0]}, {order}"

    # -- columns -------------------------------------------------------------

    def _values(self, info) -> dict:
        values: dict = experiment_row(info, self.clock())
        values["state"] = Text(values["state"], style=STATE_STYLES.get(info.state, ""))
        return values

    def _row(self, info) -> list:
        values = self._values(info)
        return [values[key] for key in self.shown_columns]

    def _label(self, key: str) -> str:
        arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column else ""
        return COLUMNS[key][0] + arrow

    def _fitting_columns(self) -> list[str]:
        """The columns that fit the width for every experiment (not only the filtered ones, so
        that typing a filter does not make columns come and go): no horizontal scrolling."""
        available = self.screen.size.width  # the table spans its screen
        if self.size.height and len(self.infos) + 1 > self.size.height:
            available -= self.styles.scrollbar_size_vertical
        all_values = [self._values(info) for info in self.infos]
        widths = {
            key: max([cell_len(self._label(key)), *(cell_len(str(values[key])) for values in all_values)])
            + 2 * self.cell_padding
            for key in COLUMNS
        }
        return fitting_columns(widths, available)

    def _show_columns(self, keys: list[str]) -> None:
        """Rebuild the columns when they or their labels change (a column's width follows its label
        only when it is added)."""
        labels = [self._label(key) for key in keys]
        if labels == self._shown_labels and keys == self.shown_columns:
            return
        self.clear(columns=True)
        for key, label in zip(keys, labels, strict=True):
            self.add_column(Text(label), key=key)
        self.shown_columns, self._shown_labels = keys, labels
