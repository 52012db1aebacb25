"""The experiments as a table: the columns that fit its width, sorted by any column, filtered; a group
of seeds as one row that expands into its members; rows marked for a comparison."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.widgets.data_table import CellDoesNotExist

from savi_tui.core.experiment_groups import GroupInfo, gather_groups, group_of
from savi_tui.core.experiment_row import experiment_row, group_row
from savi_tui.tui.state_styles import STATE_STYLES
from savi_tui.tui.textual_fixes import DataTable

GROUP_KEY = "group:"  # a group's row key: the prefix and its name (an experiment's name has no ':')
MARK, EXPANDED, COLLAPSED = "● ", "▾ ", "▸ "


def row_key(entry) -> str:
    return GROUP_KEY + entry.name if isinstance(entry, GroupInfo) else entry.name


# column key → (label, sort key of an ExperimentInfo or a GroupInfo)
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
    """One row per experiment (keyed by its name) or group (``GROUP_KEY`` + its name), a group's
    members under it while it is expanded; ``show``, ``filter``, the sorts, ``toggle_mark`` and
    ``expand``/``collapse`` redraw it."""

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        # The state keeps its colour on the highlighted row too, so the column reads the same on every row.
        super().__init__(cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable", **kwargs)
        self.clock = clock
        self.infos: list = []
        self.needle = ""
        self.sort_column = "modified"
        self.sort_reverse = True
        self.shown_columns: list[str] = []
        self._shown: list[tuple[str, str, int]] = []  # (key, label, width) of each column shown
        self.loose: list = []  # the experiments in no group
        self.groups: dict[str, GroupInfo] = {}
        self.expanded: set[str] = set()  # group names
        self.marked: set[str] = set()  # row keys
        self.wanted: str | None = None  # a row key to highlight once it is listed (``highlight``)
        # row key → (its entry, its cells), kept while the entry is the same object: a relisting
        # takes over the unchanged experiments' infos, and their thousand rows cost no new Text
        self._cells: dict[str, tuple[object, dict[str, Text]]] = {}

    def on_mount(self) -> None:
        self._show_columns(self._column_widths([]))  # the labels' widths until the experiments are listed

    # -- what it shows -------------------------------------------------------

    def show(self, infos: list) -> None:
        self.infos = infos
        self.loose, self.groups = gather_groups(infos)
        self.expanded &= set(self.groups)
        self.marked &= {row_key(entry) for entry in [*infos, *self.groups.values()]}
        keys = {row_key(info) for info in infos}
        self._cells = {key: cached for key, cached in self._cells.items() if key in keys}
        self.refill()
        self.wanted = None  # a highlight waits for one listing at most: the cursor is the user's again

    def filter(self, text: str) -> None:
        """Keep the rows whose name, model, dataset or state contains ``text`` (any case); a group
        stays when its name or one of its members does."""
        self.needle = text.strip().lower()
        self.refill()

    def _matches(self, entry) -> bool:
        needle = self.needle
        return not needle or any(
            needle in str(v).lower() for v in (entry.name, entry.model, entry.dataset, entry.state)
        )

    def visible_infos(self) -> list:
        """The entries of the rows, in row order: experiments, groups, and an expanded group's members."""
        sort_key, reverse = COLUMNS[self.sort_column][1], self.sort_reverse
        entries = [info for info in self.loose if self._matches(info)]
        shown_members = {}
        for name, group in self.groups.items():
            members = group.members if self._matches(group) else [m for m in group.members if self._matches(m)]
            if members:
                entries.append(group)
                shown_members[name] = sorted(members, key=sort_key, reverse=reverse)
        rows = []
        for entry in sorted(entries, key=sort_key, reverse=reverse):
            rows.append(entry)
            if isinstance(entry, GroupInfo) and entry.name in self.expanded:
                rows += shown_members[entry.name]
        return rows

    def refill(self) -> None:
        """Rows and columns again, for the infos, filter, sort and width as they are now: the same rows
        in the same order change only their changed cells, others are added anew."""
        selected = self.selected_key()
        cells = {row_key(entry): self._cells_of(entry) for entry in [*self.infos, *self.groups.values()]}
        if self.wanted in cells:  # listed: highlighted now (its group's row while folded), and wanted no more
            selected, self.wanted = self.wanted, None
            group = next((group_of(info) for info in self.infos if info.name == selected), None)
            if group in self.groups and group not in self.expanded:
                selected = GROUP_KEY + group
        self._show_columns(self._column_widths(list(cells.values())))
        keys = [row_key(entry) for entry in self.visible_infos()]
        keyed = [(key, [cells[key][column] for column in self.shown_columns]) for key in keys]
        if [key.value for key in self.rows] == keys:
            for key, row in keyed:
                for column, old, new in zip(self.shown_columns, self.get_row(key), row, strict=True):
                    if old is not new and (old != new or old.style != new.style):
                        self.update_cell(key, column, new)
        else:
            self.clear()
            for key, row in keyed:
                self.add_row(*row, key=key)
        if selected in keys and selected != self.selected_key():
            self.move_cursor(row=self.get_row_index(selected))

    def highlight(self, name: str) -> None:
        """Put the cursor on experiment ``name``, now or when the next listing has it."""
        self.wanted = name
        self.refill()

    def selected_key(self) -> str | None:
        """The highlighted row's key: an experiment's name, or ``GROUP_KEY`` + a group's."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor is past the rows while the table refills
            return None

    def selected_info(self):
        """The highlighted experiment; None on a group's row."""
        name = self.selected_key()
        return next((info for info in self.infos if info.name == name), None)

    def selected_name(self) -> str | None:
        info = self.selected_info()
        return info.name if info else None

    def selected_group(self) -> GroupInfo | None:
        """The highlighted group, or the group of the highlighted member."""
        key = self.selected_key()
        if key and key.startswith(GROUP_KEY):
            return self.groups.get(key.removeprefix(GROUP_KEY))
        info = self.selected_info()
        group = info.config.get("group") if info is not None else None
        return self.groups.get(group) if group else None

    # -- groups and marks ----------------------------------------------------

    def expand(self, group: GroupInfo) -> None:
        self.expanded.add(group.name)
        self._cells.pop(GROUP_KEY + group.name, None)
        self.refill()

    def collapse(self, group: GroupInfo) -> None:
        """Fold its members back into its row, and put the cursor there."""
        self.expanded.discard(group.name)
        self._cells.pop(GROUP_KEY + group.name, None)
        self.refill()
        if GROUP_KEY + group.name in [key.value for key in self.rows]:
            self.move_cursor(row=self.get_row_index(GROUP_KEY + group.name))

    def toggle_mark(self) -> str | None:
        """Mark or unmark the highlighted row; the key, or None when there is no row."""
        key = self.selected_key()
        if key is not None:
            self.marked ^= {key}
            self._cells.pop(key, None)
            self.refill()
        return key

    def marked_names(self) -> list[str]:
        """The marked experiments and groups by name, in the table's order."""
        keys = [row_key(entry) for entry in self.visible_infos()]
        keys += sorted(self.marked - set(keys))  # marked, then filtered away: still marked
        return [key.removeprefix(GROUP_KEY) for key in keys if key in self.marked]

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

    def _cells_of(self, entry) -> dict[str, Text]:
        key = row_key(entry)
        cached = self._cells.get(key)
        if cached is None or cached[0] is not entry:
            cached = self._cells[key] = (entry, self._values(entry))
        return cached[1]

    def _values(self, entry) -> dict[str, Text]:
        key = row_key(entry)
        if isinstance(entry, GroupInfo):
            values: dict = group_row(entry, self.clock())
            values["name"] = (EXPANDED if entry.name in self.expanded else COLLAPSED) + values["name"]
        else:
            values = experiment_row(entry, self.clock())
            if entry.config.get("group") in self.groups:
                values["name"] = "  " + values["name"]  # under its group's row
        if key in self.marked:
            values["name"] = MARK + values["name"]
        styles = {"name": "bold" if key in self.marked else "", "state": STATE_STYLES.get(entry.state, "")}
        # Text, not str: DataTable would parse each str as markup, a third of a 1,000-row refill.
        return {column: Text(value, style=styles.get(column, "")) for column, value in values.items()}

    def _label(self, key: str) -> str:
        arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column else ""
        return COLUMNS[key][0] + arrow

    def _column_widths(self, all_values: list[dict]) -> dict[str, int]:
        """Each column's width, padding included: its longest label or value among every row's
        ``all_values`` (not only the filtered ones, so that typing a filter leaves the columns be)."""
        return {
            key: max([cell_len(self._label(key)), *(cell_len(values[key].plain) for values in all_values)])
            + 2 * self.cell_padding
            for key in COLUMNS
        }

    def _show_columns(self, widths: dict[str, int]) -> None:
        """The columns that fit the width (no horizontal scrolling), each as wide as ``widths`` says:
        the table then measures no cell. Rebuilt only when they, their labels or widths change."""
        available = self.size.width or self.screen.size.width  # the screen's, before the first layout
        if self.size.height and len(self.infos) + 1 > self.size.height:
            available -= self.styles.scrollbar_size_vertical
        keys = fitting_columns(widths, available)
        columns = [(key, self._label(key), widths[key] - 2 * self.cell_padding) for key in keys]
        if columns == self._shown:
            return
        self.clear(columns=True)
        for key, label, width in columns:
            self.add_column(Text(label), key=key, width=width)
        self.shown_columns, self._shown = keys, columns
