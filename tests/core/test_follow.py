"""Following and stopping a run trained by another process, as the app and `savi-tui watch` do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from savi_tui.core import events as ev
from savi_tui.core.errors import ExperimentError
from savi_tui.core.follow import RunFollower
from savi_tui.core.lock import LockHolder, process_start
from savi_tui.core.run_control import request_stop, wait_until_released
from tests.conftest import start_cli_training


def follow_until(follower, predicate, timeout=60.0):
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        update = follower.poll()
        seen += update.events
        if predicate(seen, update):
            return seen, update
        assert time.monotonic() < deadline, f"gave up; saw {[type(e).__name__ for e in seen]}"
        time.sleep(0.05)


@pytest.fixture
def training(tmp_path, tiny_mnist_root):
    process, experiment = start_cli_training(tmp_path / "e", tiny_mnist_root)
    yield process, experiment
    if process.poll() is None:
        process.kill()
    process.wait(30)


def test_a_follower_sees_the_run_move_and_a_stop_from_outside_saves_it(training):
    process, experiment = training
    follower = RunFollower(experiment)
    seen, _ = follow_until(follower, lambda seen, u: sum(isinstance(e, ev.EpochFinished) for e in seen) >= 2)
    assert isinstance(seen[0], ev.RunStarted) and seen[0].experiment == "run"
    assert any(isinstance(e, ev.BatchProgress) for e in seen)
    holder = request_stop(experiment)
    assert holder.pid == process.pid
    seen, update = follow_until(follower, lambda seen, u: u.ended)
    stopped = [e for e in seen if isinstance(e, ev.Stopped)]
    assert len(stopped) == 1 and follower.ended_cleanly()
    assert process.wait(30) == 128 + signal.SIGUSR1  # stopped on request, saved
    assert wait_until_released(experiment, 1)


def test_a_trainer_killed_with_9_is_seen_as_gone_without_an_ending(training):
    process, experiment = training
    follower = RunFollower(experiment)
    follow_until(follower, lambda seen, u: any(isinstance(e, ev.EpochFinished) for e in seen))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    _, update = follow_until(follower, lambda seen, u: u.ended, timeout=10)
    assert not follower.ended_cleanly()


def test_a_run_that_says_nothing_for_too_long_is_called_silent(training):
    process, experiment = training
    follower = RunFollower(experiment, stale_after=0.5)
    follow_until(follower, lambda seen, u: bool(seen))
    process.send_signal(signal.SIGSTOP)  # frozen: holds the lock, writes nothing
    try:
        _, update = follow_until(follower, lambda seen, u: u.silent_for is not None, timeout=10)
        assert update.silent_for > 0.5 and not update.ended
    finally:
        process.send_signal(signal.SIGCONT)


def test_a_stop_is_refused_when_the_lock_names_a_process_that_is_not_the_trainer(training, tmp_path):
    process, experiment = training
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # the lock file names a live pid whose process started at another time (a reused pid)
        forged = LockHolder(stranger.pid, LockHolder.this_process().host, "another-boot:1", "2026-01-01T00:00:00")
        experiment.lock_path.write_text(forged.to_json() + "\n")
        with pytest.raises(ExperimentError, match=f"the lock names pid {stranger.pid}, which is no longer"):
            request_stop(experiment)
        assert stranger.poll() is None  # never signalled
    finally:
        stranger.kill()
        stranger.wait()


def test_stopping_a_run_that_is_not_running_says_so(tmp_path, tiny_mnist_root):
    from tests.reliability.reliability_support import train_tiny

    experiment = train_tiny(tmp_path / "e", tiny_mnist_root, "done", epochs=1)
    with pytest.raises(ExperimentError, match="experiment done is not running"):
        request_stop(experiment)


def test_a_process_start_tells_two_processes_apart():
    assert process_start(os.getpid()) == process_start(os.getpid()) is not None
    other = subprocess.Popen([sys.executable, "-c", "pass"])
    other.wait()
    assert process_start(other.pid) != process_start(os.getpid())
