"""The queue's runner against real processes: one runner at a time, kill -9 and a restart that resumes
exactly, SIGTERM, a stop of one run, and ``train --seeds`` worked through in the background."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import assert_same_state, make_datasets_root, train_tiny

from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.config import TrainConfig
from savi_tui.core.experiments import Experiment, create_experiment, list_experiments, read_experiment_info
from savi_tui.core.queue import RunQueue
from savi_tui.core.queue_runner import QueueRunner, runner_is_running
from savi_tui.core.run_control import request_stop
from savi_tui.core.seed_groups import create_group

EPOCHS, BATCH = 6, 16  # 256 training images: 16 batches an epoch


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    return make_datasets_root(tmp_path_factory.mktemp("queue"), train=256, test=64)


def cli(root: Path, datasets: Path, *argv: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "savi_tui", *argv, "-ep", str(root), "--datasets-root", str(datasets)]
    return subprocess.Popen(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, **popen)


def wait_until(predicate, timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def group(root: Path, datasets: Path, seeds: list[int], epochs: int = EPOCHS) -> list[Experiment]:
    config = TrainConfig(epochs=epochs, batch_size=BATCH, device="cpu")
    return create_group(config, seeds, root=root, name="g", datasets_root=datasets)


def states(root: Path) -> list[str]:
    return [entry.state for entry in RunQueue(root).entries()]


def epochs_done(experiment: Experiment) -> int:
    progress = experiment.read_progress()
    return progress.epochs_done if progress else 0


def test_two_runners_never_run_at_once(tmp_path, datasets):
    root = tmp_path / "exps"
    (first,) = group(root, datasets, [0], epochs=500)
    runner = cli(root, datasets, "queue", "run", stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: first.is_running(), what="the first runner to train")
        second = cli(root, datasets, "queue", "run", stderr=subprocess.PIPE)
        assert second.wait(60) == 2
        assert f"a queue runner is already running in {root} (pid {runner.pid}" in second.stderr.read().decode()
        assert states(root) == ["running"] and first.lock().holder_info().pid == runner.pid
    finally:
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 128 + signal.SIGTERM
    # SIGTERM saved the run and left it first in the queue for the next runner
    assert states(root) == ["planned"] and not runner_is_running(root)
    assert [info.state for info in list_experiments(root)] == ["queued"]


def test_a_runner_killed_with_9_is_resumed_exactly_by_the_next_then_goes_on(tmp_path, datasets):
    reference = train_tiny(tmp_path / "reference", datasets, "ref", epochs=EPOCHS, batch_size=BATCH, seed=0)
    root = tmp_path / "exps"
    first, second = group(root, datasets, [0, 1])
    runner = cli(root, datasets, "queue", "run", stderr=subprocess.DEVNULL)
    wait_until(lambda: epochs_done(first) >= 2, what="two epochs")
    runner.kill()
    runner.wait(30)
    # a reboot, as far as the queue can tell: the entry still says running, but nobody trains it
    assert states(root) == ["running", "planned"] and not first.is_running() and not runner_is_running(root)
    assert epochs_done(first) < EPOCHS

    again = cli(root, datasets, "queue", "run", stderr=subprocess.PIPE)
    assert again.wait(180) == 0, again.stderr.read().decode()
    assert states(root) == ["done", "done"]
    started = json.loads(first.events_path.read_text().splitlines()[0])  # each run starts the log anew
    assert started["event"] == "RunStarted" and started["start_epoch"] > 2  # resumed, not started again
    assert_same_state(load_checkpoint(first.status_path), load_checkpoint(reference.status_path))
    assert read_experiment_info(first.path).state == read_experiment_info(second.path).state == "complete"


def test_a_stop_asked_of_the_current_run_stops_only_that_run(tmp_path, datasets):
    root = tmp_path / "exps"
    first, second = group(root, datasets, [0, 1], epochs=500)
    runner = cli(root, datasets, "queue", "run", stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: first.is_running(), what="the first run")
        request_stop(first)  # what `savi-tui stop g-s0` does
        wait_until(lambda: second.is_running(), what="the runner to go on with the second run")
        assert states(root) == ["stopped", "running"]
        assert read_experiment_info(first.path).state == "interrupted"
    finally:
        runner.send_signal(signal.SIGINT)
        assert runner.wait(60) == 128 + signal.SIGINT
    assert states(root) == ["stopped", "planned"]


def test_train_with_seeds_queues_a_group_that_a_background_runner_works_through(tmp_path, datasets):
    root = tmp_path / "exps"
    argv = ("train", "-n", "study", "--seeds", "0,3", "-ne", "2", "-bs", "32", "--device", "cpu")
    queued = cli(root, datasets, *argv, stdout=subprocess.PIPE)
    assert queued.wait(120) == 0
    out = queued.stdout.read().decode()
    assert "queued group study: study-s0, study-s3" in out and "savi-tui queue list" in out
    assert "savi-tui watch study-s0" in out
    wait_until(lambda: states(root) == ["done", "done"] and not runner_is_running(root), what="the queue to finish")
    for name, seed in (("study-s0", 0), ("study-s3", 3)):
        info = read_experiment_info(root / name)
        assert info.state == "complete" and (info.config["group"], info.config["seed"]) == ("study", seed)
    assert "study-s3 done" in (root / ".queue-runner.log").read_text()


def test_a_run_whose_folder_is_gone_fails_alone_and_the_runner_goes_on(tmp_path, datasets):
    import shutil

    root = tmp_path / "exps"
    (gone, kept) = group(root, datasets, [0, 1], epochs=1)
    RunQueue(root).take_next()  # left running by a runner that died
    shutil.rmtree(gone.path)  # removed by hand, not through delete
    verdicts = []
    assert QueueRunner(root, datasets, on_verdict=lambda *v: verdicts.append(v)).run() == "empty"
    assert [(name, state) for name, state, _ in verdicts] == [(gone.name, "failed"), (kept.name, "done")]
    assert f"no experiment {gone.name!r}" in RunQueue(root).entries()[0].error


def test_a_run_that_cannot_start_fails_alone_and_one_trained_meanwhile_is_not_trained_again(tmp_path, datasets):
    root = tmp_path / "exps"
    complete = train_tiny(root, datasets, "by-hand", epochs=1, batch_size=64)
    log_before = complete.events_path.read_bytes()
    create_experiment(root, "no-data", TrainConfig(dataset="folder", data_folder=str(tmp_path / "missing")))
    (last,) = group(root, datasets, [0], epochs=1)
    RunQueue(root).add(["by-hand", "no-data"])
    RunQueue(root).move(last.name, "last")
    verdicts = []
    outcome = QueueRunner(root, datasets, on_verdict=lambda *v: verdicts.append(v)).run()
    assert outcome == "empty" and states(root) == ["done", "failed", "done"]
    expected = [("by-hand", "done"), ("no-data", "failed"), ("g-s0", "done")]
    assert [(name, state) for name, state, _ in verdicts] == expected
    assert "missing" in RunQueue(root).entries()[1].error
    assert complete.events_path.read_bytes() == log_before  # not trained again
    assert read_experiment_info(last.path).state == "complete" and not runner_is_running(root)
