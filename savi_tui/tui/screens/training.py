"""A training as it happens (or an experiment as it stands): curves, progress, epochs, events.

The run is this app's own (the app folds its events into the view), or another process's,
which the screen follows from its experiment folder in a worker of its own.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Label, RichLog, Static

from savi_tui.core import events as ev
from savi_tui.core.errors import ExperimentError
from savi_tui.core.experiments import read_experiment_info
from savi_tui.core.follow import RunFollower
from savi_tui.tui.messages import ContinueInBackground, ExportExperiment, ResumeExperiment, RunFollowed
from savi_tui.tui.run_state import STATE_LABELS, RunView, format_duration
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.metrics import MetricsScreen
from savi_tui.tui.state_styles import STATE_STYLES
from savi_tui.tui.textual_fixes import Footer, ProgressBar
from savi_tui.tui.widgets.epoch_table import EpochTable
from savi_tui.tui.widgets.loss_chart import LossChart

# Seconds between redraws of the progress bars, ETAs and the chart, all in one frame, however
# fast the trainer's events come: each frame holds the GIL that the training thread needs.
REDRAW_INTERVAL = 1.0
FOLLOW_INTERVAL = 0.25  # seconds between looks at a followed run's log: well within a second of the trainer
REPLAY_AT_ONCE = 20  # more events than this in one look (a history opened mid-run): one redraw for all


class TrainingScreen(Screen):
    TITLE = "Training"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the experiments (a training goes on)", id="training.back"),
        Binding("r", "resume", "Resume", tooltip="Resume this experiment where it stopped", id="training.resume"),
        Binding("e", "export", "Export ONNX", tooltip="Export this experiment to ONNX", id="training.export"),
        Binding(
            "s", "summary", "Summary", tooltip="Model summary (torchinfo) of this experiment", id="training.summary"
        ),
        Binding(
            "m",
            "metrics",
            "Metrics",
            tooltip="Confusion matrix, per-class metrics and the wrong images of the best checkpoint",
            id="training.metrics",
            show=False,
        ),
        Binding(
            "b",
            "background",
            "Background",
            tooltip="Save, and go on training in a background process that outlives this app",
            id="training.background",
        ),
    ]

    def __init__(self, view: RunView, follower: RunFollower | None = None) -> None:
        super().__init__()
        self.view = view
        self.follower = follower
        self._gone_told = False  # the followed trainer's end (without a word) is in the log
        self._chart_dirty = True
        self._progress_dirty = True  # the view changed since the progress was last drawn
        self._bindings_state: str | None = None  # the state the footer's keys were last shown for
        self._logged = 0
        self._drawn = False  # on_mount has drawn the view: the widgets exist from then on

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
        self._drawn = True
        self.refresh_all()
        self.set_interval(REDRAW_INTERVAL, self._redraw_what_is_due)
        if self.follower is not None:
            self.follow(self.follower)

    # -- following another process's run ------------------------------------

    def follow(self, follower: RunFollower) -> None:
        """Show the run ``follower`` reads, as its trainer (any process) writes it."""
        self.follower = follower
        self._say_who_trains()
        self._follow_worker()

    def _say_who_trains(self) -> None:
        holder = self.follower.holder()
        self.view.trained_by = holder.describe() if holder else "another process"
        self.view.can_stop = holder is not None and holder.is_alive_here()

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def _follow_worker(self) -> None:
        from textual.worker import get_current_worker

        worker, follower = get_current_worker(), self.follower
        told_end = False
        while not worker.is_cancelled:
            update = follower.poll()
            told_end = told_end and not update.restarted
            if update.events or update.restarted or update.problem or update.silent_for or update.ended > told_end:
                told_end = update.ended
                self.post_message(RunFollowed(update))
            time.sleep(FOLLOW_INTERVAL)

    def on_run_followed(self, message: RunFollowed) -> None:
        update, view = message.update, self.view
        if update.restarted or (update.events and self._gone_told):
            self._gone_told = False  # a new run of it began (a hand-over, a resume elsewhere)
            self._say_who_trains()
        for event in update.events:
            view.apply(event)
            if len(update.events) <= REPLAY_AT_ONCE:
                self.update_from(event)
        if len(update.events) > REPLAY_AT_ONCE:
            self.refresh_all()
        if update.problem and (not view.log or view.log[-1] != update.problem):
            view.log.append(update.problem)
        view.silent_for = update.silent_for
        if update.ended and not self._gone_told:
            self._gone_told = True
            self._ended()
        self._update_status()
        self._write_log()

    def _ended(self) -> None:
        """The followed trainer let go of the run: say how, and show it as it now stands on disk."""
        view, who = self.view, self.view.trained_by
        view.trained_by, view.can_stop, view.silent_for = None, False, None
        if self.follower.ended_cleanly():
            return
        info = read_experiment_info(self.follower.experiment.path)
        view.state, view.error = str(info.state), info.problem
        view.log.append(
            f"{who} stopped reporting and let go of the run (killed?). Its last save: {info.position.describe()}."
        )

    def stop_followed_run(self) -> None:
        """Ctrl+C on a followed run of this host: ask its trainer to stop after its batch and save."""
        from savi_tui.core.run_control import request_stop

        if self.view.state == "stopping":
            self.notify(f"Still waiting for {self.view.trained_by} to save. q quits this app; the run is not affected.")
            return
        try:
            holder = request_stop(self.follower.experiment)
        except ExperimentError as error:
            self.notify(str(error), title="Not stopped", severity="error")
            return
        self.view.state = "stopping"
        self.view.log.append(f"Asked {holder.describe()} to stop after its batch and save.")
        self.refresh_all()

    @property
    def stoppable_here(self) -> bool:
        """A followed run whose trainer a stop request from this app can reach."""
        return self.follower is not None and self.view.can_stop and self.view.live

    def on_screen_resume(self) -> None:
        self.refresh_all()

    def on_resize(self, event: events.Resize) -> None:
        # A RichLog keeps its lines wrapped at the width they were written at: write them again
        # at the new width (after the layout), or a narrower terminal scrolls them sideways.
        self.call_after_refresh(self._rewrite_log)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "resume":
            return self.view.state in ("stopped", "interrupted")
        if action == "background":  # this app's own training only
            return self.follower is None and self.view.state == "running"
        return True

    # -- updates from the training session -----------------------------------

    def update_from(self, event) -> None:
        """Called by the training session (UI thread) after it folded ``event`` into ``self.view``."""
        if not self._drawn:
            return
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
        if not self._drawn:  # the session may call before compose; on_mount draws the whole view then
            return
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
        if isinstance(self.app.screen, ExperimentsScreen):  # back in the list: on this run, so that r resumes it
            self.app.screen.table.highlight(self.view.name)

    def action_background(self) -> None:
        self.post_message(ContinueInBackground())

    def action_resume(self) -> None:
        self.post_message(ResumeExperiment(self.view.name))

    def action_export(self) -> None:
        self.post_message(ExportExperiment(self.view.name))

    def action_summary(self) -> None:
        self.app.show_summary(self.view.model, experiment=self.view.name)

    def action_metrics(self) -> None:
        self.app.push_screen(MetricsScreen(self.app.experiments_root / self.view.name))


def _joined(*parts: str) -> str:
    return "  ".join(part for part in parts if part)
