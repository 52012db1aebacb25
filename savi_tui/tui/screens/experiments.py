"""The first screen: every experiment under the root, a detail pane, and the actions on them."""

from __future__ import annotations

import time
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.widgets.data_table import CellDoesNotExist

from savi_tui.tui.messages import ExperimentDeleted, ExperimentsLoaded
from savi_tui.tui.screens.confirm import ConfirmScreen
from savi_tui.tui.widgets.footer import Footer
from savi_tui.tui.widgets.loss_chart import LossChart

REFRESH_SECONDS = 2.0  # look for changes on disk this often (cheap: folder times only)
FULL_RELOAD_SECONDS = 30.0  # and re-read everything (checksums included) at least this often

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
STATE_STYLES = {"complete": "green", "interrupted": "yellow", "running": "bold cyan", "corrupt": "bold red"}


def format_modified(timestamp: float, now: datetime) -> str:
    """Compact: "16:14" today, "11-27 16:14" this year, "2025-11-27" before."""
    when = datetime.fromtimestamp(timestamp)
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d")


def fitting_columns(widths: dict[str, int], available: int) -> list[str]:
    """The columns (in table order) that fit ``available`` cells, dropping them in ``DROP_ORDER``."""
    shown = list(widths)
    for key in DROP_ORDER:
        if sum(widths[k] for k in shown) <= available:
            break
        shown.remove(key)
    return shown


def empty_guide(experiments_root, datasets_root) -> str:
    return (
        "[b]No experiments yet[/b]\n\n"
        f"Experiments are saved under [b]{experiments_root}[/b].\n\n"
        "To train your first model:\n"
        "  1. Press [b]n[/b] (new experiment).\n"
        "  2. Pick a model; its torchinfo summary follows the highlight.\n"
        "  3. Check the form (the defaults train MNIST) and press [b]Start[/b] (Ctrl+S).\n"
        "  4. Watch the loss curves. [b]Ctrl+C[/b] stops after the batch and saves; [b]r[/b] resumes.\n\n"
        f"Datasets are read from [b]{datasets_root}[/b] and downloaded on first use.\n"
        "Offline? Copy the four MNIST IDX files and run: savi-tui data import DIR\n\n"
        "Press [b]?[/b] for all keys, [b]Ctrl+P[/b] for the command palette, [b]q[/b] to quit."
    )


class ExperimentsScreen(Screen):
    TITLE = "Experiments"
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            tooltip="Open the highlighted experiment (its curves, epochs and log)",
            id="experiments.open",
            show=False,
        ),
        Binding(
            "n", "new", "New", tooltip="New experiment: choose a model and settings, then train", id="experiments.new"
        ),
        Binding(
            "r",
            "resume",
            "Resume",
            tooltip="Resume the highlighted experiment where it stopped",
            id="experiments.resume",
        ),
        Binding(
            "d", "delete", "Delete", tooltip="Delete the highlighted experiment (asks first)", id="experiments.delete"
        ),
        Binding(
            "e", "export", "Export ONNX", tooltip="Export the highlighted experiment to ONNX", id="experiments.export"
        ),
        Binding(
            "s",
            "summary",
            "Summary",
            tooltip="Model summary (torchinfo) of the highlighted experiment",
            id="experiments.summary",
            show=False,
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter the experiments by name, model, dataset or state",
            id="experiments.filter",
        ),
        Binding("o", "sort", "Sort", tooltip="Sort by the next column", id="experiments.sort", show=False),
        Binding(
            "O",
            "reverse_sort",
            "Reverse sort",
            tooltip="Reverse the sort order",
            id="experiments.reverse_sort",
            show=False,
        ),
        Binding("t", "show_training", "Training", tooltip="Show the training in progress", id="experiments.training"),
        Binding(
            "f5,ctrl+r",
            "reload",
            "Reload",
            tooltip="Reload the experiments from disk",
            id="experiments.reload",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.infos: list = []
        self.loaded = False
        self.sort_column = "modified"
        self.sort_reverse = True
        self._last_full_reload = 0.0
        self.shown_columns: list[str] = []
        self._shown_labels: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="/ filter: name, model, dataset or state", id="filter", compact=True, select_on_focus=False
        )
        yield Static(id="empty-guide")
        # The state keeps its colour on the highlighted row too, so the column reads the same on every row.
        yield DataTable(
            id="experiments", cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable"
        )
        with Horizontal(id="detail"):
            yield Static(id="detail-config", markup=False)
            yield LossChart("Loss", id="detail-chart")
            yield Static(id="detail-metrics")
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("open", "resume", "delete", "export", "summary", "sort", "reverse_sort", "filter"):
            return bool(self.infos)
        if action == "show_training":
            return self.app.active_run is not None
        return True

    def on_mount(self) -> None:
        table = self.query_one("#experiments", DataTable)
        self._show_columns(list(COLUMNS))  # narrowed to the terminal's width once the experiments are listed
        self.query_one("#empty-guide", Static).update(empty_guide(self.app.experiments_root, self.app.datasets_root))
        self._show_empty(False)
        self.query_one("#empty-guide").display = False
        table.focus()
        self.reload()
        self.set_interval(REFRESH_SECONDS, self._auto_reload)

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:  # after the layout, so that the table's new height is known
            self.call_after_refresh(self._fill_table)

    def on_screen_resume(self) -> None:
        self._focus_table_unless_filtering()
        self.reload()

    def _focus_table_unless_filtering(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if self.focused is None or (self.focused is filter_input and not filter_input.value):
            self.query_one("#experiments", DataTable).focus()

    def _auto_reload(self) -> None:
        if self.app.screen is self:
            stale = time.monotonic() - self._last_full_reload > FULL_RELOAD_SECONDS
            self.reload(only_if_changed=not stale)

    def reload(self, only_if_changed: bool = False) -> None:
        if not only_if_changed:
            self._last_full_reload = time.monotonic()
        self.app.request_experiments(self, only_if_changed=only_if_changed)

    # -- showing -------------------------------------------------------------

    def on_experiments_loaded(self, message: ExperimentsLoaded) -> None:
        self.infos = message.infos
        self.loaded = True
        self._fill_table()

    def visible_infos(self) -> list:
        needle = self.query_one("#filter", Input).value.strip().lower()
        infos = [
            info
            for info in self.infos
            if not needle or any(needle in str(v).lower() for v in (info.name, info.model, info.dataset, info.state))
        ]
        return sorted(infos, key=COLUMNS[self.sort_column][1], reverse=self.sort_reverse)

    def _fill_table(self) -> None:
        table = self.query_one("#experiments", DataTable)
        selected = self.selected_name()
        infos = self.visible_infos()
        self._show_columns(self._fitting_columns())
        rows = [self._row(info) for info in infos]
        current = [(row_key.value, table.get_row(row_key)) for row_key in table.rows]
        if current != [(info.name, row) for info, row in zip(infos, rows, strict=False)]:
            table.clear()
            for info, row in zip(infos, rows, strict=False):
                table.add_row(*row, key=info.name)
            if selected and selected in [info.name for info in infos]:
                table.move_cursor(row=table.get_row_index(selected))
        self._show_empty(not self.infos)
        self._show_detail()
        self.refresh_bindings()

    def _row(self, info) -> list:
        values = self._values(info)
        return [values[key] for key in self.shown_columns]

    def _values(self, info) -> dict:
        return {
            "name": info.name,
            "state": Text(info.state, style=STATE_STYLES.get(info.state, "")),
            "epochs": f"{info.epochs_done}/{info.epochs_planned}",
            "best": str(info.best_epoch) if info.best_epoch else "-",
            "loss": f"{info.best_test_loss:.4f}" if info.best_test_loss is not None else "-",
            "f1": f"{info.f1:.4f}" if info.f1 is not None else "-",
            "model": info.model.removeprefix("Model") or info.model,
            "dataset": info.dataset,
            "modified": format_modified(info.modified, self.app.clock()),
        }

    def _label(self, key: str) -> str:
        arrow = (" ▼" if self.sort_reverse else " ▲") if key == self.sort_column else ""
        return COLUMNS[key][0] + arrow

    def _fitting_columns(self) -> list[str]:
        """The columns that fit the table's width for every experiment (not only the filtered ones,
        so that typing a filter does not make columns come and go): no horizontal scrolling."""
        table = self.query_one("#experiments", DataTable)
        available = self.size.width
        if table.size.height and len(self.infos) + 1 > table.size.height:
            available -= table.styles.scrollbar_size_vertical
        all_values = [self._values(info) for info in self.infos]
        widths = {
            key: max([cell_len(self._label(key)), *(cell_len(str(values[key])) for values in all_values)])
            + 2 * table.cell_padding
            for key in COLUMNS
        }
        return fitting_columns(widths, available)

    def _show_columns(self, keys: list[str]) -> None:
        """Rebuild the columns when they or their labels change (a column's width follows its label
        only when it is added)."""
        labels = [self._label(key) for key in keys]
        if labels == self._shown_labels and keys == self.shown_columns:
            return
        table = self.query_one("#experiments", DataTable)
        table.clear(columns=True)
        for key, label in zip(keys, labels, strict=True):
            table.add_column(Text(label), key=key)
        self.shown_columns, self._shown_labels = keys, labels

    def _show_empty(self, empty: bool) -> None:
        self.query_one("#empty-guide").display = empty and self.loaded
        for selector in ("#experiments", "#detail", "#filter"):
            self.query_one(selector).display = not empty
        if not empty:
            self._focus_table_unless_filtering()

    def selected_info(self):
        name = self.selected_name()
        return next((info for info in self.infos if info.name == name), None)

    def selected_name(self) -> str | None:
        table = self.query_one("#experiments", DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor is past the rows while the table refills
            return None

    @on(DataTable.RowHighlighted, "#experiments")
    def _row_highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        info = self.selected_info()
        config_pane = self.query_one("#detail-config", Static)
        metrics_pane = self.query_one("#detail-metrics", Static)
        chart = self.query_one("#detail-chart", LossChart)
        if info is None:
            config_pane.update("")
            metrics_pane.update("No experiment matches the filter." if self.infos else "")
            chart.show([], None)
            return
        config = info.config
        if config:
            lines = [
                config.get("model", "?"),
                f"{config.get('dataset')} · {config.get('epochs')} epochs",
                f"folder {config.get('data_folder')}" if config.get("data_folder") else "",
                f"batch {config.get('batch_size')} · lr {config.get('learning_rate')}",
                f"{config.get('optimizer')} · seed {config.get('seed')}",
                f"fraction {config.get('percentage')}",
                f"recipe {config.get('recipe')}" if config.get("recipe", "default") != "default" else "",
            ]
            config_pane.update("\n".join(line for line in lines if line))
        else:
            config_pane.update("(no readable config)")
        chart.show(info.history, info.best_epoch, epochs_planned=info.epochs_planned)
        metrics_pane.update(self._metrics_text(info))

    def _metrics_text(self, info) -> Text:
        text = Text()
        text.append(f"{info.state}\n", style=STATE_STYLES.get(info.state, ""))
        if info.best_epoch:
            best = info.history[info.best_epoch - 1]
            text.append(f"best epoch {info.best_epoch}\n")
            text.append(f"test loss  {best.test_loss:.4f}\n")
            text.append(f"accuracy   {best.test_accuracy:.2%}\n")
            text.append(f"global F1  {best.f1:.4f}\n")
        else:
            text.append("no finished epoch yet\n")
        if info.state == "interrupted":
            where = f"epoch {info.epochs_done + 1}" + (f" batch {info.batch_idx}" if info.batch_idx else "")
            text.append(f"r: resume at {where}\n", style="yellow")
        if info.problem:
            text.append(info.problem, style="red")
        return text

    # -- filter and sort -----------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill_table()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one("#experiments", DataTable).focus()

    def on_key(self, event: events.Key) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.has_focus:
            if event.key in ("escape", "down"):
                if event.key == "escape":
                    filter_input.value = ""
                self.query_one("#experiments", DataTable).focus()
                event.stop()
            return
        # Type to filter: a printable key that is not a command starts the filter with itself.
        if event.key in self.active_bindings:
            return
        if event.is_printable and event.character and event.character.isalnum() and self.infos:
            filter_input.focus()
            filter_input.insert_text_at_cursor(event.character)
            event.stop()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_sort(self) -> None:
        self.sort_column = SORT_CYCLE[(SORT_CYCLE.index(self.sort_column) + 1) % len(SORT_CYCLE)]
        self.sort_reverse = self.sort_column in ("modified", "epochs", "f1")
        self._resort()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()

    @on(DataTable.HeaderSelected, "#experiments")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = key, False
        self._resort()

    def _resort(self) -> None:
        self._fill_table()
        label = COLUMNS[self.sort_column][0]
        self.notify(f"Sorted by {label}, {'descending' if self.sort_reverse else 'ascending'}", timeout=2)

    # -- actions -------------------------------------------------------------

    def _require_selection(self):
        info = self.selected_info()
        if info is None:
            self.notify("No experiment selected.", severity="warning")
        return info

    @on(DataTable.RowSelected, "#experiments")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.open_experiment_view(info)

    def action_new(self) -> None:
        self.app.action_new_experiment()

    def action_reload(self) -> None:
        self.reload()

    def action_show_training(self) -> None:
        self.app.action_show_training()

    def action_resume(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.resume_experiment(info)

    def action_export(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.export_experiment(info.name)

    def action_summary(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.show_summary(info.model, experiment=info.name)

    def action_delete(self) -> None:
        info = self._require_selection()
        if info is None:
            return
        if info.state == "running":
            self.notify(f"{info.name} is training; stop it before deleting it.", severity="error")
            return
        name = info.name

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.delete_experiment(name, self)
            else:
                self.notify(f"Kept {name}.", timeout=2)

        self.app.push_screen(
            ConfirmScreen(
                "Delete experiment",
                f"Delete {name}?\n\nIts checkpoints, statistics and ONNX file are removed for good.",
                yes_label="Delete",
                no_label="Keep",
            ),
            answered,
        )

    def on_experiment_deleted(self, message: ExperimentDeleted) -> None:
        self.notify(f"Deleted {message.name}.")
        self.reload()
