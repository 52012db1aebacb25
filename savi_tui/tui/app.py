"""The Textual app: screens, the one training at a time, workers, signals.

Nothing here imports torch at import time: the first frame comes up at once,
and torch is imported inside thread workers (training, summaries, export).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from textual import work
from textual._styles_cache import StylesCache
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from savi_tui.core.config import TrainConfig
from savi_tui.core.data import default_datasets_root
from savi_tui.core.device import keep_freed_memory
from savi_tui.core.errors import SaviError
from savi_tui.core.experiments import (
    default_experiments_root,
    generate_name,
    list_experiments,
    open_experiment,
    read_experiment_info,
)
from savi_tui.tui.commands import ScreenActionsProvider
from savi_tui.tui.job_threads import ThreadPerJobExecutor
from savi_tui.tui.messages import (
    ExperimentDeleted,
    ExperimentsLoaded,
    ExportFinished,
    SummaryReady,
    TrainingEnded,
    TrainingEvent,
)
from savi_tui.tui.run_state import RunView
from savi_tui.tui.screens.confirm import ConfirmScreen
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.export import ExportScreen
from savi_tui.tui.screens.help import HelpScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.summary import SummaryScreen
from savi_tui.tui.screens.training import TrainingScreen

DOUBLE_PRESS_SECONDS = 3.0  # a second Ctrl+C within this quits at once
SIGNAL_SAVE_TIMEOUT = 30.0  # how long SIGTERM/SIGHUP wait for the trainer to save

ERROR_TITLES = {
    "training": "Training failed",
    "export": "ONNX export failed",
    "summary": "Model summary failed",
    "experiments": "Could not list the experiments",
    "delete": "Delete failed",
}


def describe_error(error: BaseException | None) -> str:
    """One line a user can act on: a SaviError's own message, else the exception's type and first line."""
    if error is None:
        return "unknown error"
    if isinstance(error, SaviError):
        return str(error)
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def folder_signature(root: Path) -> tuple:
    """Names and modification times of the experiment folders and their files: a cheap change check."""
    signature = []
    try:
        folders = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return ()
    for folder in folders:
        if not folder.is_dir():
            continue
        try:
            files = [(entry.name, entry.stat(follow_symlinks=False).st_mtime_ns) for entry in os.scandir(folder.path)]
            signature.append((folder.name, folder.stat().st_mtime_ns, tuple(sorted(files))))
        except OSError:  # deleted or renamed meanwhile: the listing will tell
            signature.append((folder.name, None, ()))
    return tuple(signature)


@dataclass
class ActiveRun:
    """The app's one training: its view, its trainer (once the worker built it), its stop state."""

    run_id: int
    view: RunView
    trainer: object | None = None
    stop_requested_at: float | None = None
    quit_when_saved: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    def request_stop(self) -> None:
        """Thread-safe: the worker also checks ``stop_requested_at`` once it has built the trainer."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()

    @property
    def live(self) -> bool:
        return not self.done.is_set()


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
        self.summary_cache: dict[str, str] = {}
        self.active_run: ActiveRun | None = None
        self.hard_quit = False  # the second Ctrl+C: the process must not wait for the trainer
        self._listed_signature: tuple = ()
        self._runs = 0

    def on_mount(self) -> None:
        # thread workers (training, summaries, export) each in a thread that ends with the job:
        # see job_threads for the OpenMP pools this keeps from piling up beside the training
        asyncio.get_running_loop().set_default_executor(ThreadPerJobExecutor("worker"))
        self.sub_title = str(self.experiments_root)
        self.screen_change_signal.subscribe(self, self._release_removed_widgets)
        self.push_screen(ExperimentsScreen())

    def _release_removed_widgets(self, screen) -> None:
        """Textual 8.2 memoizes ``StylesCache.get_inner_outer`` with an ``lru_cache(1024)`` on
        the method, keyed on the instance (Textualize/textual#6665): it kept the render caches
        of up to 1,024 removed widgets alive, some 100,000 objects that every full garbage
        collection walked (measured: 50 openings of the help screen). The values depend only on
        two colours, so emptying the cache whenever the screen changes costs a few recomputes."""
        clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)  # a private API: only if it is there
        if clear is not None:
            clear()

    # -- the one training ----------------------------------------------------

    def training_run(self) -> ActiveRun | None:
        """The training in progress, if any."""
        run = self.active_run
        return run if run is not None and run.live else None

    def start_training(
        self,
        *,
        config: TrainConfig | None = None,
        name: str | None = None,
        resume: str | None = None,
        view: RunView | None = None,
    ) -> bool:
        """Start a new run (``config``, ``name``) or resume one (``resume``); refuse a second one."""
        current = self.training_run()
        if current is not None:
            self.notify(
                f"{current.view.name} is training. One training at a time: stop it (Ctrl+C) first.",
                title="Not started",
                severity="error",
            )
            return False
        if view is None:
            view = RunView(name or "?", model=config.model, dataset=config.dataset, epochs=config.epochs)
        view.state = "starting"
        view.log.append(f"Preparing {'to resume ' + resume if resume else 'a new run'}: loading data and torch…")
        self._runs += 1
        run = self.active_run = ActiveRun(self._runs, view)
        screen = TrainingScreen(view)
        if isinstance(self.screen, NewExperimentScreen | TrainingScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        self._train(run, config, name, resume)
        self.refresh_bindings()
        return True

    @work(thread=True, exclusive=True, group="training", exit_on_error=False, name="training")
    def _train(self, run: ActiveRun, config: TrainConfig | None, name: str | None, resume: str | None) -> str:
        from savi_tui.core.runs import new_run, resume_run

        def on_event(event) -> None:  # the training thread
            try:
                self.post_message(TrainingEvent(run.run_id, event))
            except RuntimeError:  # the app's loop is closed: nobody is watching any more
                pass

        try:
            common = {"root": self.experiments_root, "datasets_root": self.datasets_root, "on_event": on_event}
            trainer = resume_run(resume, **common) if resume else new_run(config, name=name, **common)
            run.trainer = trainer
            if run.stop_requested_at is not None:
                trainer.request_stop()
            outcome = trainer.run()
        except BaseException as error:
            run.done.set()
            self.post_message(TrainingEnded(run.run_id, "failed", describe_error(error)))
            raise
        run.done.set()
        self.post_message(TrainingEnded(run.run_id, outcome))
        return outcome

    def _run_screen(self, run: ActiveRun) -> TrainingScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, TrainingScreen) and screen.view is run.view:
                return screen
        return None

    def on_training_event(self, message: TrainingEvent) -> None:
        run = self.active_run
        if run is None or run.run_id != message.run_id:
            return
        run.view.apply(message.event)
        if run.stop_requested_at is not None and run.view.state == "running":
            run.view.state = "stopping"
        screen = self._run_screen(run)
        if screen is not None:
            screen.update_from(message.event)

    def on_training_ended(self, message: TrainingEnded) -> None:
        run = self.active_run
        if run is None or run.run_id != message.run_id:
            return
        view = run.view
        if message.outcome == "failed" and view.state != "failed":
            view.state, view.error = "failed", message.error
            view.log.append(f"Failed: {message.error}")
        if message.outcome == "stopped":
            self.notify(f"Saved {view.name} at {view.saved_where()}. r resumes.", title="Stopped")
        elif message.outcome == "finished":
            self.notify(f"{view.name} finished.", title="Training")
        screen = self._run_screen(run)
        if screen is not None:
            screen.refresh_all()
        self.refresh_bindings()
        if run.quit_when_saved:
            self.quit_with(0)

    def quit_with(self, code: int) -> None:
        """Exit; ``code`` is both the app's result and the process exit code ``run_app`` returns."""
        self.exit(code, return_code=code)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "interrupt":
            return self.training_run() is not None
        if action == "quit_idle":
            return self.training_run() is None
        return True

    def action_quit_idle(self) -> None:
        self.quit_with(0)

    def action_interrupt(self) -> None:
        """Ctrl+C: stop after this batch and save; a second press within a few seconds quits at once."""
        run = self.training_run()
        if run is None:
            self.quit_with(0)
            return
        now = time.monotonic()
        if run.stop_requested_at is not None:
            if now - run.stop_requested_at <= DOUBLE_PRESS_SECONDS:
                self.hard_quit = True
                self.quit_with(130)
                return
            run.stop_requested_at = now
            self.notify("Still saving. Press Ctrl+C again to quit at once.", severity="warning")
            return
        self._stop(run)

    def _stop(self, run: ActiveRun) -> None:
        run.request_stop()
        if run.view.live:
            run.view.state = "stopping"
        self.notify("Stopping after this batch — saving…", title="Stopping", timeout=4)
        screen = self._run_screen(run)
        if screen is not None:
            screen.refresh_all()

    async def action_quit(self) -> None:
        """q / Ctrl+Q: while training, ask, then save before quitting."""
        run = self.training_run()
        if run is None:
            self.quit_with(0)
            return
        if run.stop_requested_at is not None:
            run.quit_when_saved = True
            self.notify("Quitting once the run is saved…")
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if not run.live:
                self.quit_with(0)
                return
            run.quit_when_saved = True
            self._stop(run)

        self.push_screen(
            ConfirmScreen(
                "Quit while training",
                f"{run.view.name} is training.\n\nStop after this batch, save, and quit?",
                yes_label="Save & quit",
                no_label="Keep training",
            ),
            answered,
        )

    def stop_for_signal(self, signum: int) -> None:
        """SIGTERM / SIGHUP / SIGINT, in the main thread: request the stop, wait (bounded) for the save, exit."""
        run = self.training_run()
        if run is not None:
            run.request_stop()
            if not run.done.wait(SIGNAL_SAVE_TIMEOUT):
                self.hard_quit = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.quit_with, 128 + signum)

    # -- opening, resuming, showing ------------------------------------------

    def action_show_training(self) -> None:
        run = self.active_run
        if run is None:
            self.notify("No training in this session yet.", severity="warning")
            return
        screen = self._run_screen(run)
        if screen is None:
            self.push_screen(TrainingScreen(run.view))
        elif screen is not self.screen:
            while self.screen is not screen:
                self.pop_screen()

    def open_experiment_view(self, info) -> None:
        run = self.active_run
        if run is not None and run.view.name == info.name:
            self.action_show_training()
        else:
            self.push_screen(TrainingScreen(RunView.from_info(info)))

    def resume_by_name(self, name: str) -> None:
        path = self.experiments_root / name
        if not (path / "config.json").is_file():
            self.push_screen(ErrorScreen("Cannot resume", f"no experiment {name!r} in {self.experiments_root}"))
            return
        self.resume_experiment(read_experiment_info(path))

    def resume_experiment(self, info) -> None:
        run = self.training_run()
        if info.state == "running":
            if run is not None and run.view.name == info.name:
                self.action_show_training()
            else:
                self.notify(f"{info.name} is being trained by another process.", severity="error")
        elif info.state == "complete":
            self.notify(self.extend_hint(info), title="Nothing to resume")
        elif info.state == "corrupt":
            self.push_screen(ErrorScreen("Cannot resume", f"{info.name} is corrupt: {info.problem}"))
        else:
            self.start_training(resume=info.name, view=RunView.from_info(info))

    def extend_hint(self, info) -> str:
        """What to run to train a complete experiment longer: a command that runs as printed."""
        from savi_tui.core.runs import resume_command

        done = f"{info.name} is complete: all {info.epochs_planned} epochs are done."
        if (info.config or {}).get("recipe") == "fast":
            return f"{done} The fast recipe's one-cycle schedule cannot be extended: start a new experiment."
        command = (
            resume_command(info.name, self.experiments_root, self.datasets_root) + f" -ne {info.epochs_planned + 5}"
        )
        return f"{done} To train it longer: {command}"

    def action_new_experiment(self) -> None:
        self.push_screen(NewExperimentScreen(self.generate_name))

    def generate_name(self, model: str) -> str:
        return generate_name(model, self.experiments_root, now=self.clock())

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen.title or self.title, self.key_list(self.screen)))

    def key_list(self, screen) -> list[tuple[str, str]]:
        """(keys, description) of the screen's and the app's own bindings that apply now."""
        keys: dict[str, list] = {}
        for node in (screen, self):
            for binding in Binding.make_bindings(type(node).BINDINGS):
                if not (binding.id and binding.description) or node.check_action(binding.action, ()) is False:
                    continue
                display = binding.key_display or self.get_key_display(binding)
                entry = keys.setdefault(binding.description, [[], binding.description])
                if display not in entry[0]:
                    entry[0].append(display)
        listed = [(" ".join(displays), description) for displays, description in keys.values()]
        return [*listed, ("^p", "Command palette: every action, by name")]

    # -- workers: each blocking call in a thread, each result as a message ---

    def request_experiments(self, reply_to, only_if_changed: bool = False) -> None:
        """List the experiments in a worker; ``only_if_changed`` skips the listing (and its
        checksums) when no file under the root has changed since the last one."""
        self._load_experiments(reply_to, only_if_changed)

    @work(thread=True, exclusive=True, group="experiments", exit_on_error=False)
    def _load_experiments(self, reply_to, only_if_changed: bool) -> None:
        signature = folder_signature(self.experiments_root)
        if only_if_changed and signature == self._listed_signature:
            return
        infos = list_experiments(self.experiments_root)
        self._listed_signature = signature
        reply_to.post_message(ExperimentsLoaded(infos))

    def request_summary(self, model: str, reply_to, experiment: str | None = None) -> None:
        """The torchinfo summary: cached, else the experiment's summary.txt, else torchinfo (imports torch)."""
        if model in self.summary_cache:
            reply_to.post_message(SummaryReady(model, self.summary_cache[model]))
        else:
            self._load_summary(model, experiment, reply_to)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _load_summary(self, model: str, experiment: str | None, reply_to) -> None:
        text = None
        if experiment:
            path = self.experiments_root / experiment / "summary.txt"
            if path.is_file():
                text = path.read_text(encoding="utf-8")
        if text is None:
            from savi_tui.core.models import model_summary

            text = model_summary(model)
        self.summary_cache[model] = text
        reply_to.post_message(SummaryReady(model, text))

    def show_summary(self, model: str, experiment: str | None = None) -> None:
        if model not in (None, "?"):
            self.push_screen(SummaryScreen(model, experiment))
        else:
            self.notify("This experiment has no readable model.", severity="error")

    def delete_experiment(self, name: str, reply_to) -> None:
        self._delete(name, reply_to)

    @work(thread=True, exclusive=True, group="delete", exit_on_error=False)
    def _delete(self, name: str, reply_to) -> None:
        from savi_tui.core.experiments import delete_experiment

        delete_experiment(self.experiments_root, name)
        reply_to.post_message(ExperimentDeleted(name))

    def export_experiment(self, name: str) -> None:
        self.notify(f"Exporting {name} to ONNX…", timeout=3)
        self._export(name)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, name: str) -> None:
        from savi_tui.core.export import export_onnx

        result = export_onnx(open_experiment(self.experiments_root, name), checkpoint="best")
        self.post_message(ExportFinished(name, result))

    def on_export_finished(self, message: ExportFinished) -> None:
        self.push_screen(ExportScreen(message.experiment, message.result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker error becomes an error modal, never a traceback over the screen."""
        if event.state == WorkerState.ERROR:
            title = ERROR_TITLES.get(event.worker.group, "Something went wrong")
            self.push_screen(ErrorScreen(title, describe_error(event.worker.error)))


def run_app(
    experiments_root: str | os.PathLike | None = None,
    datasets_root: str | os.PathLike | None = None,
) -> int:
    """Run the app in this terminal; return the process exit code.

    SIGTERM, SIGHUP (the SSH connection dropped) and a SIGINT from outside (the
    terminal is raw: Ctrl+C arrives as a key, not as SIGINT) stop a training at the next
    batch and wait for it to save before the app exits.
    """
    app = SaviApp(experiments_root, datasets_root)

    def on_signal(signum, frame) -> None:
        app.stop_for_signal(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    # Our own loop: asyncio.run() would wait for a still-running training thread on exit.
    loop = asyncio.new_event_loop()
    try:
        code = app.run(loop=loop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = 0 if code is None else int(code)
    if app.hard_quit:
        # The second Ctrl+C: leave now. Every file on disk was written atomically, so
        # each is the last complete version.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
    return code
