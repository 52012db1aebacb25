"""Stopping a run from outside, and handing a run over to a background process.

A stop is SIGUSR1 to the lock's holder, sent only after checking that it is still the process
that took the lock; every trainer's front end (the CLI, the app) stops at the next batch and
saves on it. Not SIGINT: to a terminal user a second SIGINT means "exit at once", and two
viewers asking for the same stop must not make it one. A hand-over is such a stop followed
by ``savi-tui train --resume`` in a process of its own: exact, because resume is exact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from savi_tui.core.errors import ExperimentError
from savi_tui.core.experiments import Experiment
from savi_tui.core.lock import LockHolder

STOP_REQUEST = signal.SIGUSR1
BACKGROUND_LOG = Experiment("x").background_log_path.name  # what a background run prints, in its folder


def request_stop(experiment: Experiment) -> LockHolder:
    """Ask the process training ``experiment`` to stop after its batch and save."""
    lock = experiment.lock()
    holder = lock.holder_info()
    if not lock.is_held():
        raise ExperimentError(f"experiment {experiment.name} is not running")
    if holder is None:
        raise ExperimentError(f"experiment {experiment.name}: its lock file does not say who trains it")
    if not holder.on_this_host:
        raise ExperimentError(
            f"experiment {experiment.name} runs on host {holder.host} (pid {holder.pid}): stop it there"
        )
    if not holder.is_alive_here():
        raise ExperimentError(
            f"experiment {experiment.name}: the lock names pid {holder.pid}, which is no longer the process "
            "that trains it; nothing was signalled"
        )
    try:
        os.kill(holder.pid, STOP_REQUEST)
    except ProcessLookupError:  # it ended between the check and the signal
        raise ExperimentError(f"experiment {experiment.name} is not running") from None
    return holder


def wait_until_released(experiment: Experiment, timeout: float, poll: float = 0.1) -> bool:
    """True once no process holds the experiment's lock; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while experiment.is_running():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def resume_in_background(
    experiment: Experiment, root: str | os.PathLike, datasets_root: str | os.PathLike, *extra: str
) -> subprocess.Popen:
    """``savi-tui train --resume NAME`` in its own session, with no terminal; its output goes
    to ``train.log`` in the experiment folder."""
    argv = [
        sys.executable,
        "-m",
        "savi_tui",
        "train",
        "--resume",
        experiment.name,
        "-ep",
        str(Path(root).resolve()),
        "--datasets-root",
        str(Path(datasets_root).resolve()),
        *extra,
    ]
    return detached(argv, experiment.path / BACKGROUND_LOG)


def start_queue_runner(root: str | os.PathLike, datasets_root: str | os.PathLike) -> subprocess.Popen:
    """``savi-tui queue run`` in its own session, with no terminal; its output goes to
    ``.queue-runner.log`` in the experiments root. One that finds a runner already there exits."""
    from savi_tui.core.queue_runner import RUNNER_LOG

    root = Path(root).resolve()
    argv = [sys.executable, "-m", "savi_tui", "queue", "run", "-ep", str(root)]
    argv += ["--datasets-root", str(Path(datasets_root).resolve())]
    return detached(argv, root / RUNNER_LOG)


def detached(argv: list[str], log_path: Path) -> subprocess.Popen:
    """``argv`` in a session of its own (no SIGHUP from the terminal or the app that started it),
    with no terminal; what it prints is appended to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd="/",
        )
