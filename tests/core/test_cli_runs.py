"""`train --detach`, `watch` and `stop`: a run in the background, followed and stopped from the shell."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from savi_tui.core.experiments import Experiment, read_experiment_info


def cli(*argv, timeout=120) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "savi_tui", *argv], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture
def roots(tmp_path, tiny_mnist_root):
    return ["-ep", str(tmp_path / "e"), "--datasets-root", str(tiny_mnist_root)]


@pytest.fixture
def background(tmp_path):
    """Pids of background trainings, killed after the test whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def detach(roots, background, *flags) -> tuple[str, Experiment]:
    result = cli("train", "-n", "bg", "--device", "cpu", "--detach", *flags, *roots)
    assert result.returncode == 0, result.stderr
    background.append(int(re.search(r"\(pid (\d+)\)", result.stdout).group(1)))
    return result.stdout, Experiment(os.path.join(roots[1], "bg"))


def wait_running(experiment: Experiment, timeout=60.0, *, batches: bool = False) -> None:
    """Until the run holds its lock (and, with ``batches``, has reported trained batches)."""
    deadline = time.monotonic() + timeout
    while not (experiment.is_running() and experiment.events_path.exists()):
        assert time.monotonic() < deadline, (experiment.path / "train.log").read_text()
        time.sleep(0.05)
    while batches and "BatchProgress" not in experiment.events_path.read_text():
        assert time.monotonic() < deadline, (experiment.path / "train.log").read_text()
        time.sleep(0.05)


def test_detach_trains_in_the_background_and_watch_follows_it_to_the_end(roots, background):
    out, experiment = detach(roots, background, "-ne", "3", "-bs", "16")
    assert "bg trains in the background" in out
    assert f"savi-tui watch bg -ep {roots[1]}" in out and f"savi-tui stop bg -ep {roots[1]}" in out
    assert str(experiment.path / "train.log") in out
    wait_running(experiment)
    watched = cli("watch", "bg", *roots)
    assert watched.returncode == 0, watched.stderr
    assert "Following bg, trained by pid" in watched.stdout + watched.stderr
    assert "Done." in watched.stderr and "epoch 3/3" in watched.stderr
    assert read_experiment_info(experiment.path).state == "complete"


def test_stop_asks_the_background_run_to_save_and_says_how_to_resume(roots, background):
    _, experiment = detach(roots, background, "-ne", "500", "-bs", "8")
    wait_running(experiment, batches=True)
    stopped = cli("stop", "bg", *roots)
    assert stopped.returncode == 0, stopped.stderr
    assert re.search(r"bg saved (in epoch \d+ at batch \d+ of 32|at the end of epoch \d+)\.", stopped.stdout)
    assert f"Resume with: savi-tui train --resume bg -ep {roots[1]}" in stopped.stdout
    info = read_experiment_info(experiment.path)
    assert info.state == "interrupted" and not experiment.is_running()
    assert "Saved" in (experiment.path / "train.log").read_text()


@pytest.mark.parametrize("command", ["watch", "stop"])
def test_watch_and_stop_of_a_run_that_is_not_running_get_one_line_and_exit_2(roots, command, tiny_mnist_root):
    assert cli("train", "-n", "done", "-ne", "1", *roots).returncode == 0
    result = cli(command, "done", *roots)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "experiment done is not running" in result.stderr


@pytest.mark.parametrize("command", ["watch", "stop"])
def test_watch_and_stop_of_no_such_experiment_get_one_line_and_exit_2(roots, command):
    result = cli(command, "nothing", *roots)
    assert result.returncode == 2 and result.stderr.strip().endswith("no experiment 'nothing' in " + roots[1])
