"""The Textual app: its screens and keys, and the messages from them and from the workers.

Nothing here imports torch at import time: the first frame comes up at once,
and torch is imported inside thread workers (training, summaries, export).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker

from savi_tui.core.data import default_datasets_root
from savi_tui.core.device import keep_freed_memory
from savi_tui.core.experiments import default_experiments_root, generate_name, open_experiment
from savi_tui.core.models import ModelSummary, variant_key
from savi_tui.core.queue_runner import start_runner_if_needed
from savi_tui.core.run_control import STOP_REQUEST
from savi_tui.tui.commands import ScreenActionsProvider
from savi_tui.tui.job_threads import ThreadPerJobExecutor
from savi_tui.tui.messages import (
    ContinueInBackground,
    ExportExperiment,
    ExportFinished,
    GroupQueued,
    OpenExperiment,
    QueueGroup,
    ResumeExperiment,
    StartTraining,
    SummaryReady,
    TrainingEnded,
    TrainingEvent,
)
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.export import ExportScreen
from savi_tui.tui.screens.help import HelpScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.summary import SummaryScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.textual_fixes import release_removed_widgets
from savi_tui.tui.training_session import TrainingSession


class SaviApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "savi-tui"
    COMMANDS = App.COMMANDS | {ScreenActionsProvider}
    BINDINGS = [
        # Ctrl+C stops a training (shown only then); with none running it quits, as in any terminal program.
        Binding(
            "ctrl+c",
            "interrupt",
            "Stop & save",
            tooltip="Stop the training after this batch and save it",
            priority=True,
            id="app.interrupt",
        ),
        Binding("ctrl+c", "quit_idle", "Quit", priority=True, show=False, id="app.quit_idle"),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            priority=True,
            tooltip="Quit (asks first while training)",
            show=False,
            id="app.quit",
        ),
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while training)", id="app.quit_q"),
        Binding(
            "question_mark,f1", "help", "Help", tooltip="Show the keys of this screen", key_display="?", id="app.help"
        ),
    ]

    def __init__(
        self,
        experiments_root: str | os.PathLike | None = None,
        datasets_root: str | os.PathLike | None = None,
        *,
        clock=None,
    ) -> None:
        """``clock()`` gives the time used for generated experiment names (tests fix it)."""
        super().__init__()
        # before any thread exists: the training worker then allocates from the main heap
        keep_freed_memory()
        self.experiments_root = Path(experiments_root) if experiments_root else default_experiments_root()
        self.datasets_root = Path(datasets_root) if datasets_root else default_datasets_root()
        self.clock = clock or datetime.now
        self.summary_cache: dict[str, ModelSummary] = {}  # from torchinfo only, by variant_key
        self.training = TrainingSession(self, self.experiments_root, self.datasets_root)
        # (root, datasets root) → a new background runner's pid or None; tests put a stand-in here
        self.start_queue_runner = start_runner_if_needed

    def on_mount(self) -> None:
        # thread workers (training, summaries, export) each in a thread that ends with the job:
        # see job_threads for the OpenMP pools this keeps from piling up beside the training
        asyncio.get_running_loop().set_default_executor(ThreadPerJobExecutor("worker"))
        self.training.loop = asyncio.get_running_loop()
        self.sub_title = str(self.experiments_root)
        self.screen_change_signal.subscribe(self, release_removed_widgets)
        self.push_screen(ExperimentsScreen(self.experiments_root, self.datasets_root, clock=self.clock))
        self._resume_queue()

    @work(thread=True, group="queue-runner", exit_on_error=False)
    def _resume_queue(self) -> None:
        """Queued runs and no runner (after a reboot, say): a background runner takes them up again."""
        pid = self.start_queue_runner(self.experiments_root, self.datasets_root)
        if pid is not None:
            self.call_from_thread(self.notify, f"The queue goes on: a background runner (pid {pid}) trains it.")

    # -- keys ----------------------------------------------------------------

    def _followed_run_screen(self) -> TrainingScreen | None:
        """The screen in front, when it follows another process's run that Ctrl+C can stop."""
        screen = self.screen
        return screen if isinstance(screen, TrainingScreen) and screen.stoppable_here else None

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        stoppable = self.training.run is not None or self._followed_run_screen() is not None
        if action == "interrupt":
            return stoppable
        if action == "quit_idle":
            return not stoppable
        if action == "show_training":
            return self.training.active_run is not None
        return True

    def action_quit_idle(self) -> None:
        self.training.exit(0)

    def action_interrupt(self) -> None:
        followed = self._followed_run_screen()
        if followed is not None:
            followed.stop_followed_run()
        else:
            self.training.interrupt()

    async def action_quit(self) -> None:
        self.training.quit()

    def action_show_training(self) -> None:
        self.training.show()

    def action_new_experiment(self) -> None:
        self.push_screen(NewExperimentScreen(self.generate_name))

    def generate_name(self, model: str) -> str:
        return generate_name(model, self.experiments_root, now=self.clock())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # -- what the screens ask for --------------------------------------------

    def on_start_training(self, message: StartTraining) -> None:
        self.training.start(config=message.config, name=message.name)

    def on_queue_group(self, message: QueueGroup) -> None:
        self.notify(f"Queueing group {message.name}: {len(message.seeds)} runs…", timeout=3)
        self._queue_group(message.config, message.name, message.seeds)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _queue_group(self, config, name: str, seeds: list[int]) -> None:
        from savi_tui.core.seed_groups import create_group

        roots = {"root": self.experiments_root, "datasets_root": self.datasets_root}
        experiments = create_group(config, seeds, name=name, **roots)
        pid = self.start_queue_runner(self.experiments_root, self.datasets_root)
        self.post_message(GroupQueued([e.name for e in experiments], pid))

    def on_group_queued(self, message: GroupQueued) -> None:
        runner = f"a background runner (pid {message.runner})" if message.runner else "the queue's runner"
        self.notify(f"Queued {', '.join(message.names)}; {runner} trains them one at a time.", timeout=6)
        if isinstance(self.screen, NewExperimentScreen):
            self.pop_screen()

    def on_resume_experiment(self, message: ResumeExperiment) -> None:
        self.training.resume(message.name, message.info)

    def on_open_experiment(self, message: OpenExperiment) -> None:
        self.training.open(message.info)

    def on_training_event(self, message: TrainingEvent) -> None:
        self.training.event(message)

    def on_training_ended(self, message: TrainingEnded) -> None:
        self.training.ended(message)

    def on_continue_in_background(self, message: ContinueInBackground) -> None:
        self.training.hand_over()

    def on_export_experiment(self, message: ExportExperiment) -> None:
        self.notify(f"Exporting {message.name} to ONNX…", timeout=3)
        self._export(message.name)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, name: str) -> None:
        from savi_tui.core.export import export_onnx

        result = export_onnx(open_experiment(self.experiments_root, name), checkpoint="best")
        self.post_message(ExportFinished(name, result))

    def on_export_finished(self, message: ExportFinished) -> None:
        self.push_screen(ExportScreen(message.experiment, message.result))

    # -- the model summary ---------------------------------------------------

    def request_summary(self, model: str, reply_to, experiment: str | None = None, options: dict | None = None) -> None:
        """The torchinfo summary of a model, a variant with ``options`` (valid ones): cached, else the
        experiment's summary.txt, else torchinfo (imports torch). The reply's key is ``variant_key``'s."""
        key = variant_key(model, options)
        if key in self.summary_cache:
            reply_to.post_message(SummaryReady(key, self.summary_cache[key]))
        else:
            self._load_summary(model, options, experiment, reply_to)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _load_summary(self, model: str, options: dict | None, experiment: str | None, reply_to) -> None:
        path = self.experiments_root / experiment / "summary.txt" if experiment else None
        key = variant_key(model, options)
        if path is not None and path.is_file():
            # text only: not cached, so the new-experiment pane still gets torchinfo's rows
            summary = ModelSummary(path.read_text(encoding="utf-8"))
        else:
            from savi_tui.core.models import summarize_model

            if experiment is not None and options is None:  # no summary.txt: the experiment's own variant
                options = open_experiment(self.experiments_root, experiment).read_config().model_options
            summary = self.summary_cache[variant_key(model, options)] = summarize_model(model, options)
        reply_to.post_message(SummaryReady(key, summary))

    def show_summary(self, model: str, experiment: str | None = None) -> None:
        if model not in (None, "?"):
            self.push_screen(SummaryScreen(model, experiment))
        else:
            self.notify("This experiment has no readable model.", severity="error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker error becomes an error modal, never a traceback over the screen."""
        screen = ErrorScreen.for_worker(event)
        if screen is not None:
            self.push_screen(screen)


def run_app(
    experiments_root: str | os.PathLike | None = None,
    datasets_root: str | os.PathLike | None = None,
    *,
    on_hangup: str = "continue",
) -> int:
    """Run the app in this terminal; return the process exit code.

    SIGTERM, SIGHUP (the SSH connection dropped) and a SIGINT from outside (the
    terminal is raw: Ctrl+C arrives as a key, not as SIGINT) stop a training at the next
    batch and wait for it to save before the app exits. After a SIGHUP, or when the app
    ends under a live training (a browser tab closed), the run goes on in a background
    process unless ``on_hangup`` is "stop". SIGUSR1 (``savi-tui stop``, another app) stops
    the training and saves; the app stays.
    """
    app = SaviApp(experiments_root, datasets_root)

    def on_signal(signum, frame) -> None:
        app.training.stop_for_signal(signum)

    def on_stop_request(signum, frame) -> None:
        loop = app.training.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(app.training.stop_from_outside)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    previous[STOP_REQUEST] = signal.signal(STOP_REQUEST, on_stop_request)
    # Our own loop: asyncio.run() would wait for a still-running training thread on exit.
    loop = asyncio.new_event_loop()
    try:
        code = app.run(loop=loop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = 0 if code is None else int(code)
    background = app.training.finish_for_exit(on_hangup)
    if background is not None:
        _say(f"savi-tui: the training goes on in the background (pid {background}); savi-tui follows it")
    if app.training.hard_quit:
        # The second Ctrl+C: leave now. Every file on disk was written atomically, so
        # each is the last complete version.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
    return code


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # the terminal is gone
        pass
