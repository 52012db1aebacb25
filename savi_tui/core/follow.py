"""Following a run that any process trains: its events as they come, and whether it still reports.

A follower takes no lock and writes nothing. It reads the run's ``events.jsonl``; whether the
trainer is still there it learns from the lock (released by the OS when the trainer dies)
and, for a trainer on another host, from how long the log has been silent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from savi_tui.core import events as ev
from savi_tui.core.experiments import Experiment
from savi_tui.core.lock import LockHolder
from savi_tui.core.run_log import RunLogReader

STALE_SECONDS = 10.0  # silence longer than any evaluation or save: the trainer stopped reporting
START_SECONDS = 120.0  # how long a run handed over may take to load torch and its data
ENDINGS = (ev.Stopped, ev.Finished, ev.Failed)


@dataclass
class FollowUpdate:
    events: list[ev.Event] = field(default_factory=list)
    restarted: bool = False  # the log began anew (a new run, or a replaced file): fold from a fresh view
    ended: bool = False  # the trainer let go of the run (its last event says how, if it could)
    silent_for: float | None = None  # seconds without a word while it still holds the run
    problem: str | None = None  # what could not be read, for the screen to say


class RunFollower:
    def __init__(
        self,
        experiment: Experiment,
        *,
        expect_start: bool = False,
        stale_after: float | None = None,
        clock=time.monotonic,
    ) -> None:
        """``expect_start``: the trainer is still to come (a hand-over): no end before it has begun."""
        self.experiment = experiment
        self.reader = RunLogReader(experiment.events_path)
        self.stale_after = STALE_SECONDS if stale_after is None else stale_after
        self.clock = clock
        self.last_heard = self.created = clock()
        self.waiting_for_start = expect_start
        self.ended = False
        self.ending: ev.Event | None = None  # Stopped, Finished or Failed, once read

    def holder(self) -> LockHolder | None:
        return self.experiment.lock().holder_info()

    def poll(self) -> FollowUpdate:
        """What is new since the last poll."""
        read = self.reader.read()
        update = FollowUpdate(events=read.events, restarted=read.restarted)
        now = self.clock()
        if read.events:
            self.last_heard = now
            if read.restarted:
                self.ended, self.ending = False, None
            for event in read.events:
                if isinstance(event, ENDINGS):
                    self.ending = event
        if read.bad_lines:
            update.problem = f"{self.reader.bad_lines} line(s) of {self.reader.path.name} could not be read"
        running = self.experiment.is_running()
        if running or now - self.created > START_SECONDS:
            self.waiting_for_start = False
        if not running and not self.ended and not self.waiting_for_start:
            self.ended = True  # the lock is free: the trainer has ended, cleanly or not
        update.ended = self.ended
        if running and now - self.last_heard > self.stale_after:
            update.silent_for = now - self.last_heard
        return update

    def ended_cleanly(self) -> bool:
        return isinstance(self.ending, ENDINGS)


def started_from_disk(experiment: Experiment) -> ev.RunStarted:
    """The run's picture from progress.json, for a log that lost its beginning."""
    from savi_tui.core.experiments import read_experiment_info

    info = read_experiment_info(experiment.path)
    position = info.position
    return ev.RunStarted(
        info.name,
        info.model,
        "?",
        info.epochs_planned,
        info.epochs_done + 1,
        0 if position.at_epoch_end else position.batch,
        position.batches,
        0,
        0,
        tuple(info.history),
        info.best_epoch,
    )
