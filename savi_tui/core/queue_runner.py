"""The queue's one runner: it trains the planned runs one at a time, in this process, until none is left.

It holds ``ROOT/.queue-runner.lock`` (an ``flock``, released by the OS when it dies) for as long as
it runs, so two runners never run at once and never take the same run. A run it took and did not
finish (the runner was killed, the machine rebooted) is still "running" in the queue while no process
holds its experiment's lock: the next runner takes it first and resumes it exactly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from savi_tui.core.errors import ExperimentLocked, SaviError, describe_error
from savi_tui.core.experiments import ExperimentState, read_experiment_info
from savi_tui.core.lock import ExperimentLock
from savi_tui.core.queue import DONE, FAILED, PLANNED, STOPPED, RunQueue

RUNNER_LOCK = ".queue-runner.lock"
RUNNER_LOG = ".queue-runner.log"  # what a background runner prints, in the experiments root
WAIT_SECONDS = 1.0  # between looks while every run left is being trained elsewhere


class RunnerBusy(SaviError):
    """Another runner holds the queue's runner lock."""


def runner_lock(root: str | os.PathLike) -> ExperimentLock:
    return ExperimentLock(Path(root) / RUNNER_LOCK)


def runner_is_running(root: str | os.PathLike) -> bool:
    return runner_lock(root).is_held()


class QueueRunner:
    """``run()`` works the queue through; ``stop_current()`` and ``request_exit()`` may come from a signal handler."""

    def __init__(
        self,
        root: str | os.PathLike,
        datasets_root: str | os.PathLike | None = None,
        *,
        train: Callable | None = None,
        on_verdict: Callable[[str, str, str | None], None] | None = None,
    ) -> None:
        """``train(trainer)`` runs one trainer and returns its outcome (the CLI shows its progress);
        ``on_verdict(name, state, error)`` hears how each run ended."""
        self.root = Path(root)
        self.datasets_root = datasets_root
        self.queue = RunQueue(self.root)
        self.train = train or (lambda trainer: trainer.run())
        self.on_verdict = on_verdict or (lambda name, state, error: None)
        self.trainer = None
        self.exit_requested = threading.Event()

    def stop_current(self) -> None:
        """Stop the run in training at its next batch and save it (it leaves the queue as "stopped")."""
        trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()

    def request_exit(self) -> None:
        """Save the current run at its next batch, leave it planned, and stop the runner."""
        self.exit_requested.set()
        self.stop_current()

    def run(self) -> str:
        """Work the queue through: "empty" once no planned run is left, "exited" after ``request_exit``."""
        from savi_tui.core.runs import resume_run

        lock = runner_lock(self.root)
        try:
            lock.acquire()
        except ExperimentLocked:
            raise RunnerBusy(f"a queue runner is already running in {self.root} ({lock.holder()})") from None
        try:
            while not self.exit_requested.is_set():
                entry = self.queue.take_next(when_empty=lock.release)
                if entry is None:
                    return "empty"
                if entry is False:
                    self.exit_requested.wait(WAIT_SECONDS)
                    continue
                if read_experiment_info(self.root / entry.name).state == ExperimentState.COMPLETE:
                    self._verdict(entry.name, DONE, None)  # trained meanwhile by hand (the app's r, say)
                    continue
                try:
                    trainer = resume_run(entry.name, root=self.root, datasets_root=self.datasets_root)
                except ExperimentLocked:  # another process took it after our look: try it again later
                    self.queue.mark(entry.name, PLANNED)
                    continue
                except Exception as error:
                    self._verdict(entry.name, FAILED, describe_error(error))
                    continue
                self.trainer = trainer
                if self.exit_requested.is_set():
                    trainer.request_stop()
                try:
                    outcome = self.train(trainer)
                except Exception as error:
                    self._verdict(entry.name, FAILED, describe_error(error))
                    continue
                finally:
                    self.trainer = None
                if outcome != "stopped":
                    self._verdict(entry.name, DONE, None)
                elif self.exit_requested.is_set():
                    self._verdict(entry.name, PLANNED, None)  # the next runner resumes it first
                else:
                    self._verdict(entry.name, STOPPED, None)
            return "exited"
        finally:
            lock.release()

    def _verdict(self, name: str, state: str, error: str | None) -> None:
        self.queue.mark(name, state, error)
        self.on_verdict(name, state, error)


def start_runner_if_needed(root: str | os.PathLike, datasets_root: str | os.PathLike) -> int | None:
    """Start a background runner when the queue has work and no runner holds its lock; its pid, or None.
    Two callers racing both start one: the second exits at once, finding the lock taken."""
    from savi_tui.core.run_control import start_queue_runner

    if not RunQueue(root).has_unfinished() or runner_is_running(root):
        return None
    return start_queue_runner(root, datasets_root).pid
