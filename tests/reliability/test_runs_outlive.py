"""Runs that outlive the terminal, when things go wrong: kill -9 of a followed trainer and of a
hand-over, two stops at once, a stop of a finished run, a lock naming a reused pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability_support import assert_same_state, make_datasets_root, train_tiny

from savi_tui.core import events as ev
from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.errors import ExperimentError
from savi_tui.core.experiments import Experiment, read_experiment_info
from savi_tui.core.follow import RunFollower
from savi_tui.core.lock import LockHolder
from savi_tui.core.run_control import request_stop, wait_until_released

EPOCHS, BATCH = 6, 8  # 256 training images: 32 batches an epoch


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    return make_datasets_root(tmp_path_factory.mktemp("outlive"), train=256, test=64)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, datasets):
    """The same training, never interrupted."""
    return train_tiny(tmp_path_factory.mktemp("reference"), datasets, "run", epochs=EPOCHS, batch_size=BATCH)


def cli(root: Path, datasets: Path, *argv: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "savi_tui", *argv, "-ep", str(root), "--datasets-root", str(datasets)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, **popen)


def new_training(root: Path, datasets: Path, **popen) -> subprocess.Popen:
    argv = ("train", "-n", "run", "-ne", str(EPOCHS), "-bs", str(BATCH), "--device", "cpu")
    return cli(root, datasets, *argv, **popen)


def wait_until(predicate, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def logged(experiment: Experiment, kind: type) -> int:
    text = experiment.events_path.read_text() if experiment.events_path.exists() else ""
    return text.count(f'"event": "{kind.__name__}"')


def finish(root: Path, datasets: Path, experiment: Experiment) -> None:
    """Resume until the run is complete (it may already be)."""
    wait_until_released(experiment, 120)
    if read_experiment_info(experiment.path).state != "complete":
        assert cli(root, datasets, "train", "--resume", "run").wait(180) == 0
    assert read_experiment_info(experiment.path).state == "complete"


def test_kill_9_of_a_trainer_two_followers_follow(tmp_path, datasets, reference):
    root = tmp_path / "e"
    process = new_training(root, datasets, stderr=subprocess.DEVNULL)
    experiment = Experiment(root / "run")
    wait_until(lambda: experiment.events_path.exists() and logged(experiment, ev.EpochFinished) >= 2, what="epochs")
    followers = [RunFollower(experiment), RunFollower(experiment)]
    for follower in followers:
        follower.poll()
    process.kill()
    process.wait(30)
    for follower in followers:
        wait_until(lambda follower=follower: follower.poll().ended, timeout=10, what="the end to be seen")
        assert not follower.ended_cleanly()  # said as "stopped reporting", not as a stop
    for name in ("status.pkl", "best.pkl"):
        load_checkpoint(experiment.path / name)  # the last complete versions: they verify and load
    finish(root, datasets, experiment)
    assert_same_state(load_checkpoint(experiment.status_path), load_checkpoint(reference.status_path))


@pytest.mark.parametrize("moment", ["before the background process starts", "after it started"])
def test_kill_9_during_a_hand_over_loses_no_batch_and_trains_none_twice(tmp_path, datasets, reference, moment):
    root = tmp_path / "e"
    process = new_training(root, datasets, stderr=subprocess.PIPE, text=True)
    experiment = Experiment(root / "run")
    wait_until(lambda: experiment.events_path.exists() and logged(experiment, ev.EpochFinished) >= 1, what="an epoch")
    process.send_signal(signal.SIGHUP)  # the terminal went away: save, then hand over
    if moment.startswith("before"):
        wait_until(lambda: logged(experiment, ev.Stopped) == 1, what="the save")
        process.kill()  # the save is done; the hand-over may or may not have begun
    else:
        for line in process.stderr:
            if "goes on in the background" in line:
                break
        process.kill()
    process.wait(30)
    log = experiment.path / "train.log"
    deadline = time.monotonic() + 30
    while log.exists() and time.monotonic() < deadline:  # the hand-over had begun: its process takes the run
        if experiment.is_running() or "Done." in log.read_text():  # (or it was killed before it started)
            break
        time.sleep(0.05)
    finish(root, datasets, experiment)
    log = (experiment.path / "train.log").read_text() if (experiment.path / "train.log").exists() else ""
    assert "being trained by" not in log  # never a second trainer on the experiment
    assert_same_state(load_checkpoint(experiment.status_path), load_checkpoint(reference.status_path))


def test_two_stops_asked_at_once_save_once_and_the_run_resumes_exactly(tmp_path, datasets, reference):
    root = tmp_path / "e"
    process = new_training(root, datasets, stderr=subprocess.DEVNULL)
    experiment = Experiment(root / "run")
    wait_until(lambda: experiment.events_path.exists() and logged(experiment, ev.BatchProgress) >= 2, what="batches")
    barrier, errors = threading.Barrier(2), []

    def ask() -> None:
        barrier.wait()
        try:
            request_stop(experiment)
        except ExperimentError as error:  # the other one's stop may already have ended it
            errors.append(str(error))

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert process.wait(60) == 128 + signal.SIGUSR1  # stopped and saved; never "exit at once"
    assert logged(experiment, ev.Stopped) == 1 and all("not running" in e for e in errors)
    finish(root, datasets, experiment)
    assert_same_state(load_checkpoint(experiment.status_path), load_checkpoint(reference.status_path))


def test_a_stop_asked_of_a_run_that_has_just_finished_says_so_and_changes_nothing(tmp_path, datasets):
    root = tmp_path / "e"
    assert new_training(root, datasets, stderr=subprocess.DEVNULL).wait(120) == 0
    experiment = Experiment(root / "run")
    before = {p.name: p.read_bytes() for p in experiment.path.iterdir() if p.is_file()}
    stop = cli(root, datasets, "stop", "run", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = stop.communicate(timeout=60)
    assert stop.returncode == 2 and err == "savi-tui: error: experiment run is not running\n"
    assert {p.name: p.read_bytes() for p in experiment.path.iterdir() if p.is_file()} == before


def test_a_lock_naming_a_pid_that_now_belongs_to_another_process_is_never_signalled(tmp_path, datasets):
    root = tmp_path / "e"
    process = new_training(root, datasets, stderr=subprocess.DEVNULL)
    experiment = Experiment(root / "run")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_until(lambda: experiment.events_path.exists() and experiment.is_running(), what="the training")
        # the file names a live pid, but its process started at another time: the pid was reused
        forged = LockHolder(stranger.pid, LockHolder.this_process().host, "another-boot:1", "2026-01-01T00:00:00")
        experiment.lock_path.write_text(forged.to_json() + "\n")
        stop = cli(root, datasets, "stop", "run", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, err = stop.communicate(timeout=60)
        assert stop.returncode == 2 and f"the lock names pid {stranger.pid}, which is no longer" in err
        time.sleep(0.5)
        assert stranger.poll() is None and process.poll() is None  # neither was signalled
    finally:
        stranger.kill()
        process.kill()
        process.wait(30)


def test_a_terminal_that_goes_away_under_savi_tui_train_hands_the_run_over(tmp_path, datasets, reference):
    """The SSH connection drops: writes to the terminal fail (EIO), then SIGHUP comes. The run
    saves, a background process takes it over, and it ends as if it had never stopped."""
    import pty

    root = tmp_path / "e"
    main, child = pty.openpty()
    os.set_blocking(main, False)
    process = new_training(root, datasets, stdin=child, stdout=child, stderr=child, start_new_session=True)
    os.close(child)
    experiment = Experiment(root / "run")
    try:
        deadline = time.monotonic() + 90
        while not (experiment.events_path.exists() and logged(experiment, ev.EpochFinished) >= 1):
            assert time.monotonic() < deadline, "no epoch"
            try:
                os.read(main, 65536)  # a terminal is read, or its writer blocks
            except BlockingIOError:
                pass
            time.sleep(0.02)
    finally:
        os.close(main)  # the terminal is gone: every write to it fails from now on
    time.sleep(0.3)
    process.send_signal(signal.SIGHUP)
    assert process.wait(60) == 128 + signal.SIGHUP
    log = experiment.path / "train.log"
    wait_until(lambda: experiment.is_running() or (log.exists() and "Done." in log.read_text()), what="the hand-over")
    finish(root, datasets, experiment)
    assert read_experiment_info(experiment.path).problem is None  # no "Input/output error" recorded
    assert "resuming at epoch" in (experiment.path / "train.log").read_text()
    assert_same_state(load_checkpoint(experiment.status_path), load_checkpoint(reference.status_path))
