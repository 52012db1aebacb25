"""The app's one training at a time: starting or resuming it, its worker, its events on its
screen, stopping it (Ctrl+C, twice to quit at once; q asks; a signal waits for the save), and
handing it over to a background process (a key, the quit dialog, or the terminal going away)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from textual.app import App

from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import describe_error
from savi_tui.core.experiments import Experiment, ExperimentState, read_experiment_info
from savi_tui.core.follow import RunFollower
from savi_tui.tui.messages import TrainingEnded, TrainingEvent
from savi_tui.tui.run_state import RunView
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.quit_training import LEAVE, QuitTrainingScreen
from savi_tui.tui.screens.training import TrainingScreen

DOUBLE_PRESS_SECONDS = 3.0  # a second Ctrl+C within this quits at once
SIGNAL_SAVE_TIMEOUT = 30.0  # how long SIGTERM/SIGHUP wait for the trainer to save


@dataclass
class ActiveRun:
    """The app's one training: its view, its trainer (once the worker built it), its stop state."""

    run_id: int
    view: RunView
    trainer: object | None = None
    stop_requested_at: float | None = None
    quit_when_saved: bool = False
    hand_over: bool = False  # once saved, it goes on in a background process
    quit_after_hand_over: bool = False
    handed_over: bool = False
    outcome: str | None = None  # "finished", "stopped" or "failed", once done
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


class TrainingSession:
    """The training of one app: what its keys and messages about training are handed to."""

    def __init__(self, app: App, experiments_root: Path, datasets_root: Path) -> None:
        self.app = app
        self.experiments_root, self.datasets_root = experiments_root, datasets_root
        self.active_run: ActiveRun | None = None  # the last one started, live or not
        self.hard_quit = False  # the second Ctrl+C: the process must not wait for the trainer
        self.loop: asyncio.AbstractEventLoop | None = None  # the app's, once it runs: for the signal path
        self.exit_reason: str | None = None  # "hangup", "terminate", "interrupt": why the process is ending
        self._runs = 0

    @property
    def run(self) -> ActiveRun | None:
        """The training in progress, if any."""
        run = self.active_run
        return run if run is not None and run.live else None

    def exit(self, code: int) -> None:
        """Exit; ``code`` is both the app's result and the process exit code ``run_app`` returns."""
        self.app.exit(code, return_code=code)

    # -- starting ------------------------------------------------------------

    def start(
        self,
        *,
        config: TrainConfig | None = None,
        name: str | None = None,
        resume: str | None = None,
        view: RunView | None = None,
    ) -> bool:
        """Start a new run (``config``, ``name``) or resume one (``resume``); refuse a second one."""
        current = self.run
        if current is not None:
            self.app.notify(
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
        if isinstance(self.app.screen, NewExperimentScreen | TrainingScreen):
            self.app.switch_screen(screen)
        else:
            self.app.push_screen(screen)
        self.app.run_worker(
            partial(self._train, run, config, name, resume),
            name="training",
            group="training",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )
        self.app.refresh_bindings()
        return True

    def _train(self, run: ActiveRun, config: TrainConfig | None, name: str | None, resume: str | None) -> str:
        """The worker, in its own thread: build the trainer, run it, post its events and outcome."""
        from savi_tui.core.runs import new_run, resume_run

        def on_event(event) -> None:  # the training thread
            try:
                self.app.post_message(TrainingEvent(run.run_id, event))
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
            run.outcome = "failed"
            run.done.set()
            self.app.post_message(TrainingEnded(run.run_id, "failed", describe_error(error)))
            raise
        run.outcome = outcome
        run.done.set()
        self.app.post_message(TrainingEnded(run.run_id, outcome))
        return outcome

    def resume(self, name: str, info=None) -> None:
        """Resume ``name`` (its ``ExperimentInfo`` if the caller has one), or say why not."""
        if info is None:
            path = self.experiments_root / name
            if not (path / "config.json").is_file():
                message = f"no experiment {name!r} in {self.experiments_root}"
                self.app.push_screen(ErrorScreen("Cannot resume", message))
                return
            info = read_experiment_info(path)
        if info.state == ExperimentState.RUNNING:
            run = self.run
            if run is not None and run.view.name == info.name:
                self.show()
            else:
                self.app.notify(f"{info.name} is being trained by another process.", severity="error")
        elif info.state == ExperimentState.COMPLETE:
            from savi_tui.core.runs import extend_hint

            hint = extend_hint(info, self.experiments_root, self.datasets_root)
            self.app.notify(hint, title="Nothing to resume")
        elif info.state == ExperimentState.CORRUPT:
            self.app.push_screen(ErrorScreen("Cannot resume", f"{info.name} is corrupt: {info.problem}"))
        else:
            self.start(resume=info.name, view=RunView.from_info(info))

    # -- showing -------------------------------------------------------------

    def _run_screen(self, run: ActiveRun) -> TrainingScreen | None:
        for screen in self.app.screen_stack:
            if isinstance(screen, TrainingScreen) and screen.view is run.view:
                return screen
        return None

    def show(self) -> None:
        """Bring this session's training screen to the front."""
        run = self.active_run
        if run is None:
            self.app.notify("No training in this session yet.", severity="warning")
            return
        screen = self._run_screen(run)
        if screen is None:
            self.app.push_screen(TrainingScreen(run.view))
        elif screen is not self.app.screen:
            while self.app.screen is not screen:
                self.app.pop_screen()

    def open(self, info) -> None:
        """Show an experiment: this session's training if it is that one, else what its folder says."""
        run = self.active_run
        if run is not None and run.view.name == info.name:
            self.show()
            return
        view = RunView.from_info(info)
        follower = RunFollower(Experiment(info.path)) if info.state == ExperimentState.RUNNING else None
        self.app.push_screen(TrainingScreen(view, follower))

    def event(self, message: TrainingEvent) -> None:
        """Fold a trainer's event into the run's view and its screen."""
        run = self.active_run
        if run is None or run.run_id != message.run_id:
            return
        run.view.apply(message.event)
        if run.stop_requested_at is not None and run.view.state == "running":
            run.view.state = "stopping"
        screen = self._run_screen(run)
        if screen is not None:
            screen.update_from(message.event)

    def ended(self, message: TrainingEnded) -> None:
        run = self.active_run
        if run is None or run.run_id != message.run_id:
            return
        view = run.view
        if message.outcome == "failed" and view.state != "failed":
            view.state, view.error = "failed", message.error
            view.log.append(f"Failed: {message.error}")
        if message.outcome == "stopped" and run.hand_over:
            self._continue_in_background(run)
            if run.quit_after_hand_over:
                self.exit(0)
                return
        elif message.outcome == "stopped":
            self.app.notify(f"Saved {view.name} {view.saved_where()}. r resumes.", title="Stopped")
        elif message.outcome == "finished":
            self.app.notify(f"{view.name} finished.", title="Training")
        screen = self._run_screen(run)
        if screen is not None:
            screen.refresh_all()
        self.app.refresh_bindings()
        if run.quit_when_saved:
            self.exit(0)

    # -- stopping ------------------------------------------------------------

    def interrupt(self) -> None:
        """Ctrl+C: stop after this batch and save; a second press within a few seconds quits at once."""
        run = self.run
        if run is None:
            self.exit(0)
            return
        now = time.monotonic()
        if run.stop_requested_at is not None:
            if now - run.stop_requested_at <= DOUBLE_PRESS_SECONDS:
                self.hard_quit = True
                self.exit(130)
                return
            run.stop_requested_at = now
            self.app.notify("Still saving. Press Ctrl+C again to quit at once.", severity="warning")
            return
        self._stop(run)

    def _stop(self, run: ActiveRun) -> None:
        run.request_stop()
        if run.view.live:
            run.view.state = "stopping"
        self.app.notify("Stopping after this batch — saving…", title="Stopping", timeout=4)
        screen = self._run_screen(run)
        if screen is not None:
            screen.refresh_all()

    def quit(self) -> None:
        """q / Ctrl+Q: while training, ask: leave it training in the background, or stop and save."""
        run = self.run
        if run is None:
            self.exit(0)
            return
        if run.stop_requested_at is not None:
            run.quit_when_saved = not run.hand_over
            run.quit_after_hand_over = run.hand_over
            self.app.notify("Quitting once the run is saved…")
            return

        def answered(answer: str | None) -> None:
            if answer is None:
                return
            if not run.live:
                self.exit(0)
            elif answer == LEAVE:
                self.hand_over(then_quit=True)
            else:
                run.quit_when_saved = True
                self._stop(run)

        self.app.push_screen(QuitTrainingScreen(run.view.name), answered)

    # -- handing over --------------------------------------------------------

    def hand_over(self, then_quit: bool = False) -> None:
        """Stop after this batch, save, and go on in a background process (which this app then follows)."""
        run = self.run
        if run is None:
            self.app.notify("Nothing of this app is training.", severity="warning")
            return
        run.hand_over, run.quit_after_hand_over = True, then_quit
        run.request_stop()
        if run.view.live:
            run.view.state = "stopping"
        self.app.notify("Saving, then it goes on in the background…", title="Continuing in the background")
        screen = self._run_screen(run)
        if screen is not None:
            screen.refresh_all()

    def _continue_in_background(self, run: ActiveRun) -> None:
        from savi_tui.core.run_control import resume_in_background

        experiment = Experiment(self.experiments_root / run.view.name)
        process = resume_in_background(experiment, self.experiments_root, self.datasets_root)
        run.handed_over = True
        run.view.state = "starting"
        run.view.log.append(f"Saved {run.view.saved_where()}; goes on in the background (pid {process.pid}).")
        self.app.notify(f"{run.view.name} goes on in the background (pid {process.pid}).", title="Handed over")
        screen = self._run_screen(run)
        if screen is not None and not run.quit_after_hand_over:
            screen.follow(RunFollower(experiment, expect_start=True))
            screen.refresh_all()

    def stop_from_outside(self) -> None:
        """Another process asked this app's training to stop and save (``savi-tui stop``, another app)."""
        run = self.run
        if run is not None and run.stop_requested_at is None:
            self._stop(run)
            self.app.notify("Another process asked this training to stop and save.", title="Stopping")

    def finish_for_exit(self, on_hangup: str) -> int | None:
        """After the app has exited: a run still training (the terminal or the browser tab went away)
        is stopped and saved, and goes on in the background unless ``on_hangup`` is "stop".
        Returns the background process's pid, if one was started."""
        run = self.active_run
        if run is None or self.hard_quit or run.handed_over:
            return None
        if run.live:
            self.exit_reason = self.exit_reason or "closed"
            run.request_stop()
            run.done.wait(SIGNAL_SAVE_TIMEOUT)
        went_away = self.exit_reason in ("hangup", "closed") and on_hangup == "continue"
        if run.outcome != "stopped" or not (went_away or run.hand_over):
            return None
        from savi_tui.core.run_control import resume_in_background

        experiment = Experiment(self.experiments_root / run.view.name)
        run.handed_over = True
        return resume_in_background(experiment, self.experiments_root, self.datasets_root).pid

    def stop_for_signal(self, signum: int) -> None:
        """SIGTERM / SIGHUP / SIGINT, in the main thread: request the stop, wait (bounded) for the save, exit."""
        self.exit_reason = {signal.SIGHUP: "hangup", signal.SIGTERM: "terminate"}.get(signum, "interrupt")
        run = self.run
        if run is not None:
            run.request_stop()
            if not run.done.wait(SIGNAL_SAVE_TIMEOUT):
                self.hard_quit = True
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.exit, 128 + signum)
