"""The first screen: every experiment under the root, a detail pane, and the actions on them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static
from textual.worker import Worker, WorkerState

from savi_tui.core.collector import HeldCollections, settle_garbage_unless_settled, thaw
from savi_tui.core.experiment_row import group_text
from savi_tui.core.experiments import (
    ExperimentState,
    delete_experiment,
    folder_signature,
    list_experiments,
    unchanged_folders,
    verify_all,
)
from savi_tui.core.queue import RunQueue
from savi_tui.tui.messages import (
    ExperimentDeleted,
    ExperimentsLoaded,
    ExportExperiment,
    OpenExperiment,
    QueueChanged,
    ResumeExperiment,
)
from savi_tui.tui.screens.compare import CompareScreen
from savi_tui.tui.screens.confirm import ConfirmScreen
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments_keys import BINDINGS as EXPERIMENTS_KEYS
from savi_tui.tui.screens.metrics import MetricsScreen
from savi_tui.tui.textual_fixes import Footer
from savi_tui.tui.widgets.experiment_detail import ExperimentDetail
from savi_tui.tui.widgets.experiments_table import ExperimentsTable

REFRESH_SECONDS = 2.0  # look for changes on disk this often (cheap: folder times only)
FULL_RELOAD_SECONDS = 30.0  # and re-read everything at least this often (checkpoints hashed when changed)


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


def _has_folders(root: Path) -> bool:
    try:
        with os.scandir(root) as entries:
            return any(entry.is_dir() and not entry.name.startswith(".") for entry in entries)
    except OSError:
        return False


class ExperimentsScreen(Screen):
    TITLE = "Experiments"
    BINDINGS = EXPERIMENTS_KEYS

    def __init__(self, experiments_root: Path, datasets_root: Path, *, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.experiments_root, self.datasets_root, self.clock = experiments_root, datasets_root, clock
        self.infos: list = []
        self.loaded = False
        self._last_full_reload = 0.0
        self._listed_signature: tuple = ()
        self._first_listing = HeldCollections()  # no collector pass until the first listing is on screen
        self._expect_experiments = _has_folders(experiments_root)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            placeholder="/ filter: name, model, dataset or state", id="filter", compact=True, select_on_focus=False
        )
        yield Static(empty_guide(self.experiments_root, self.datasets_root), id="empty-guide")
        yield ExperimentsTable(self.clock, id="experiments")
        yield ExperimentDetail(id="detail")
        yield Footer(compact=True)

    @property
    def table(self) -> ExperimentsTable:
        return self.query_one("#experiments", ExperimentsTable)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("open", "resume", "delete", "export", "summary", "sort", "reverse_sort", "filter", "mark"):
            # while the first listing runs, as it will most likely end: the footer is then laid out once
            return bool(self.infos) if self.loaded else self._expect_experiments
        if action == "compare":  # in the footer once two are marked
            return len(self.table.marked) >= 2
        return True

    def on_mount(self) -> None:
        self._show_empty(False)
        self.query_one("#empty-guide").display = False
        self.table.focus()
        self._first_listing.hold()
        self.reload()
        self.set_interval(REFRESH_SECONDS, self._auto_reload)

    def on_unmount(self) -> None:
        self._first_listing.release()
        thaw()

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded:  # after the layout, so that the table's new height is known
            self.call_after_refresh(self._refill)

    def on_screen_resume(self) -> None:
        self._focus_table_unless_filtering()
        if self.loaded:  # the first resume comes with the mount, whose listing is under way
            self.reload()

    def _focus_table_unless_filtering(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if self.focused is None or (self.focused is filter_input and not filter_input.value):
            self.table.focus()

    # -- listing, in a worker ------------------------------------------------

    def _auto_reload(self) -> None:
        if self.app.screen is self:
            stale = time.monotonic() - self._last_full_reload > FULL_RELOAD_SECONDS
            self.reload(only_if_changed=not stale)

    def reload(self, only_if_changed: bool = False) -> None:
        """List the experiments in a worker; ``only_if_changed`` skips the listing (and its
        checksums) when no file under the root has changed since the last one."""
        if not only_if_changed:
            self._last_full_reload = time.monotonic()
        self._list(only_if_changed)

    @work(thread=True, exclusive=True, group="experiments", exit_on_error=False)
    def _list(self, only_if_changed: bool) -> None:
        signature = folder_signature(self.experiments_root)
        if only_if_changed and signature == self._listed_signature:
            return
        # while a training writes, one folder changes: the others are taken as they were shown, but
        # for a running one, whose trainer may have died without a write (its lock then says so)
        same = unchanged_folders(self._listed_signature, signature) if only_if_changed else set()
        unchanged = {
            info.name: info for info in self.infos if info.name in same and info.state != ExperimentState.RUNNING
        }
        infos = list_experiments(self.experiments_root, verify=False, unchanged=unchanged, signature=signature)
        # the checkpoints the record knows as the scan saw them cost no system call: verified now,
        # the others hashed once the list is shown (``_verify``)
        infos = verify_all(self.experiments_root, infos, signature, hash_unknown=False)
        self.post_message(ExperimentsLoaded(infos, signature))

    # described, or Textual would repr the thousand infos on the UI thread for the worker's name
    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, description="verify the listing")
    def _verify(self, infos: list, signature: tuple) -> None:
        """The checksums of a listing already shown that the record did not know: the first
        hashing of a root takes seconds."""
        verified = verify_all(self.experiments_root, infos, signature)
        changed = any(old is not new for old, new in zip(infos, verified, strict=True))
        if changed:  # even from a superseded pass: its verdicts are merged (on_experiments_loaded)
            self.post_message(ExperimentsLoaded(verified, verified_from=infos))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "experiments" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._first_listing.release()
        screen = ErrorScreen.for_worker(event)  # a worker's messages do not bubble to the app
        if screen is not None:
            self.app.push_screen(screen)

    # -- showing -------------------------------------------------------------

    def on_experiments_loaded(self, message: ExperimentsLoaded) -> None:
        infos = message.infos
        if message.verified_from is None:
            self._listed_signature = message.signature  # with the infos shown, which the next listing reuses
            if not all(info.verified for info in infos):
                self.call_after_refresh(self._verify, infos, message.signature)
        elif message.verified_from is not self.infos:
            # a newer listing is shown: the verdicts apply to the experiments it took over unread
            found = {id(old): new for old, new in zip(message.verified_from, infos, strict=True)}
            infos = [found.get(id(info), info) for info in self.infos]
        self.infos = infos
        self.loaded = True
        self.table.show(self.infos)
        self._shown()
        self.call_after_refresh(self._listing_shown)

    def _listing_shown(self) -> None:
        # what the app holds now lives as long as it: out of later full passes (core/collector.py);
        # settled again, garbage collected first, once a training in the app has thawed it
        settle_garbage_unless_settled(collect=not self._first_listing.held)
        self._first_listing.release()

    def _refill(self) -> None:
        self.table.refill()
        self._shown()

    def _shown(self) -> None:
        """What follows the table's rows: the guide or the table, the detail, the keys."""
        self._show_empty(not self.infos)
        self._show_detail()
        self.refresh_bindings()

    def _show_empty(self, empty: bool) -> None:
        self.query_one("#empty-guide").display = empty and self.loaded
        for selector in ("#experiments", "#detail", "#filter"):
            self.query_one(selector).display = not empty
        if not empty:
            self._focus_table_unless_filtering()

    @on(DataTable.RowHighlighted, "#experiments")
    def _show_detail(self) -> None:
        empty_reason = "No experiment matches the filter." if self.infos else ""
        info = self.table.selected_info()
        if info is None and (group := self.table.selected_group()) is not None:
            empty_reason = group_text(group)
        self.query_one(ExperimentDetail).show(info, empty_reason)

    # -- filter and sort -----------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter(event.value)
        self._shown()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.has_focus:
            if event.key in ("escape", "down"):
                if event.key == "escape":
                    filter_input.value = ""
                self.table.focus()
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
        self.table.sort_next()
        self._resorted()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()
        self._resorted()

    @on(DataTable.HeaderSelected, "#experiments")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.table.sort_by(event.column_key.value)
        self._resorted()

    def _resorted(self) -> None:
        self._shown()
        self.notify(self.table.sort_description(), timeout=2)

    # -- actions -------------------------------------------------------------

    def _require_selection(self):
        info = self.table.selected_info()
        if info is None and (group := self.table.selected_group()) is not None:
            self.notify(f"{group.name} is a group of {group.n}: + shows its members.", severity="warning")
        elif info is None:
            self.notify("No experiment selected.", severity="warning")
        return info

    @on(DataTable.RowSelected, "#experiments")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.table.selected_info() is None and (group := self.table.selected_group()) is not None:
            if group.name in self.table.expanded:  # Enter on a group folds and unfolds it
                self.table.collapse(group)
            else:
                self.table.expand(group)
            self._shown()
            return
        info = self._require_selection()
        if info is not None:
            self.post_message(OpenExperiment(info))

    def action_reload(self) -> None:
        self.reload()

    def action_resume(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.post_message(ResumeExperiment(info.name, info))

    def action_export(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.post_message(ExportExperiment(info.name))

    def action_metrics(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.push_screen(MetricsScreen(info.path))

    def action_summary(self) -> None:
        info = self._require_selection()
        if info is not None:
            self.app.show_summary(info.model, experiment=info.name)

    def action_delete(self) -> None:
        info = self._require_selection()
        if info is None:
            return
        if info.state == ExperimentState.RUNNING:
            self.notify(f"{info.name} is training; stop it before deleting it.", severity="error")
            return
        name = info.name

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(name)
            else:
                self.notify(f"Kept {name}.", timeout=2)

        self.app.push_screen(
            ConfirmScreen(
                "Delete experiment",
                f"Delete {name}?\n\nIts checkpoints, statistics and ONNX file are removed for good."
                + ("\nIt leaves the queue too." if info.state == ExperimentState.QUEUED else ""),
                yes_label="Delete",
                no_label="Keep",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def _delete(self, name: str) -> None:
        delete_experiment(self.experiments_root, name)
        self.post_message(ExperimentDeleted(name))

    def on_experiment_deleted(self, message: ExperimentDeleted) -> None:
        self.notify(f"Deleted {message.name}.")
        self.reload()

    # -- the queue -----------------------------------------------------------

    def _require_queued(self):
        info = self._require_selection()
        if info is not None and info.state != ExperimentState.QUEUED:
            self.notify(f"{info.name} is not queued.", severity="warning")
            return None
        return info

    def action_cancel_queued(self) -> None:
        info = self._require_queued()
        if info is not None:
            self._change_queue(info.name, "cancel")

    def action_move_queued(self, where: str) -> None:
        info = self._require_queued()
        if info is not None:
            self._change_queue(info.name, where)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _change_queue(self, name: str, change: str) -> None:
        queue = RunQueue(self.experiments_root)
        if change == "cancel":
            queue.cancel(name)
            self.post_message(QueueChanged(f"Cancelled {name}; its folder stays."))
            return
        queue.move(name, change)
        planned = [entry.name for entry in queue.entries() if entry.state == "planned"]
        self.post_message(QueueChanged(f"Moved {name} {change}. Queue: {', '.join(planned)}"))

    def on_queue_changed(self, message: QueueChanged) -> None:
        self.notify(message.what, timeout=4)
        self.reload()

    # -- groups, marks and comparing ---------------------------------------

    def action_expand(self) -> None:
        if (group := self.table.selected_group()) is not None:
            self.table.expand(group)
            self._shown()

    def action_collapse(self) -> None:
        if (group := self.table.selected_group()) is not None:
            self.table.collapse(group)
            self._shown()

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor_down()
        self.refresh_bindings()

    def action_compare(self) -> None:
        self.app.push_screen(CompareScreen(self.table.marked_names(), self.infos))
