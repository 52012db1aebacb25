"""A training as it happens (or an experiment as it stands): curves, progress, epochs, events."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Label, RichLog, Static

from savi_tui.core import events as ev
from savi_tui.tui.messages import ExportExperiment, ResumeExperiment
from savi_tui.tui.run_state import STATE_LABELS, RunView, format_duration
from savi_tui.tui.state_styles import STATE_STYLES
from savi_tui.tui.textual_fixes import Footer, ProgressBar
from savi_tui.tui.widgets.epoch_table import EpochTable
from savi_tui.tui.widgets.loss_chart import LossChart

# Seconds between redraws of the progress bars, ETAs and the chart, all in one frame, however
# fast the trainer's events come: each frame holds the GIL that the training thread needs.
REDRAW_INTERVAL = 1.0


class TrainingScreen(Screen):
    TITLE = "Training"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the experiments (a training goes on)", id="training.back"),
        Binding("r", "resume", "Resume", tooltip="Resume this experiment where it stopped", id="training.resume"),
        Binding("e", "export", "Export ONNX", tooltip="Export this experiment to ONNX", id="training.export"),
        Binding(
            "s", "summary", "Summary", tooltip="Model summary (torchinfo) of this experiment", id="training.summary"
        ),
    ]

    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view
        self._chart_dirty = True
        self._progress_dirty = True  # the view changed since the progress was last drawn
        self._bindings_state: str | None = None  # the state the footer's keys were last shown for
        self._logged = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="run-title")
        yield LossChart("", id="loss-chart")
        with Vertical(id="progress"):
            with Horizontal(classes="progress-row"):
                yield Label("Epoch", id="epoch-label", classes="progress-label")
                yield ProgressBar(total=1.0, id="epoch-progress")
                yield Label(id="epoch-eta", classes="progress-eta")
            with Horizontal(classes="progress-row"):
                yield Label("Run", id="run-label", classes="progress-label")
                yield ProgressBar(total=1.0, id="run-progress")
                yield Label(id="run-eta", classes="progress-eta")
        yield Static(id="run-status")
        with Horizontal(id="run-bottom"):
            yield EpochTable(id="epochs")
            yield RichLog(id="events", wrap=True, markup=False, auto_scroll=True, min_width=20)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_all()
        self.set_interval(REDRAW_INTERVAL, self._redraw_what_is_due)

    def on_screen_resume(self) -> None:
        self.refresh_all()

    def on_resize(self, event: events.Resize) -> None:
        # A RichLog keeps its lines wrapped at the width they were written at: write them again
        # at the new width (after the layout), or a narrower terminal scrolls them sideways.
        self.call_after_refresh(self._rewrite_log)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "resume":
            return self.view.state in ("stopped", "interrupted")
        return True

    # -- updates from the training session -----------------------------------

    def update_from(self, event) -> None:
        """Called by the training session (UI thread) after it folded ``event`` into ``self.view``."""
        if isinstance(event, ev.BatchProgress):
            # redrawn by the timer: progress and batch curve in the same frame, not once per event
            self._progress_dirty = self._chart_dirty = True
            return
        if isinstance(event, ev.EpochFinished | ev.RunStarted):
            self.query_one(EpochTable).show(self.view.history, self.view.best_epoch)
            self._chart_dirty = True
            self._redraw_chart_if_dirty()
        self._update_progress()
        self._update_status()
        self._write_log()

    def refresh_all(self) -> None:
        self.query_one(EpochTable).show(self.view.history, self.view.best_epoch)
        self._rewrite_log()
        self._update_progress()
        self._update_status()
        self._chart_dirty = True
        self._redraw_chart_if_dirty()

    def _redraw_what_is_due(self) -> None:
        if self._progress_dirty:
            self._update_progress()
        self._redraw_chart_if_dirty()

    def _redraw_chart_if_dirty(self) -> None:
        if self._chart_dirty:
            self._chart_dirty = False
            view = self.view
            self.query_one(LossChart).show(view.history, view.best_epoch, view.batch_losses, view.epochs)

    def _rewrite_log(self) -> None:
        self.query_one(RichLog).clear()
        self._logged = 0
        self._write_log()

    def _write_log(self) -> None:
        log = self.query_one(RichLog)
        for line in self.view.log[self._logged :]:
            log.write(line)
        self._logged = len(self.view.log)

    def _update_progress(self) -> None:
        self._progress_dirty = False
        view = self.view
        epoch = view.epoch if view.live or view.in_epoch else view.epochs_done
        # the labels sit in fixed one-line cells (app.tcss): no new layout for a new text
        self.query_one("#epoch-label", Label).update(f"Epoch {epoch}/{view.epochs}", layout=False)
        self.query_one("#epoch-progress", ProgressBar).update(progress=view.epoch_fraction())
        self.query_one("#run-progress", ProgressBar).update(progress=view.run_fraction())
        batch = f"batch {view.batch}/{view.batches}" if view.in_epoch else ""
        epoch_eta = _joined(batch, f"ETA {format_duration(view.epoch_eta())}")
        self.query_one("#epoch-eta", Label).update(epoch_eta, layout=False)
        speed = f"{view.images_per_second:,.0f} img/s" if view.live and view.images_per_second else ""
        self.query_one("#run-eta", Label).update(_joined(speed, f"ETA {format_duration(view.run_eta())}"), layout=False)

    def _update_status(self) -> None:
        view = self.view
        title = Text()
        title.append(STATE_LABELS.get(view.state, view.state), style=STATE_STYLES.get(view.state, ""))
        title.append("  ")
        title.append(view.name, style="bold")
        # A generated name already ends with the model: saying it twice would push the device off an 80-column line.
        details = [view.model if view.model not in view.name else "", view.dataset, view.device]
        title.append("".join(f"  {detail}" for detail in details if detail))
        self.query_one("#run-title", Static).update(title, layout=False)  # one line (app.tcss)
        self.query_one("#run-status", Static).update(Text(view.status_line(), style=STATE_STYLES.get(view.state, "")))
        if view.state != self._bindings_state:  # the footer rebuilds itself: only when `r` may change
            self._bindings_state = view.state
            self.refresh_bindings()

    # -- actions -------------------------------------------------------------

    def action_back(self) -> None:
        if self.view.live:
            self.notify("Training goes on; t in the list comes back here.", timeout=3)
        self.app.pop_screen()

    def action_resume(self) -> None:
        self.post_message(ResumeExperiment(self.view.name))

    def action_export(self) -> None:
        self.post_message(ExportExperiment(self.view.name))

    def action_summary(self) -> None:
        self.app.show_summary(self.view.model, experiment=self.view.name)


def _joined(*parts: str) -> str:
    return "  ".join(part for part in parts if part)
