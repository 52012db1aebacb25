"""run_app in a real terminal (a pty): a hang-up mid-training saves before the process ends."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

from savi_tui.core.experiments import Experiment
from savi_tui.core.progress import read_progress

APP = "import sys; from savi_tui.tui.app import run_app; sys.exit(run_app())"


def drain(fd: int, seconds: float) -> bytes:
    """Read what the app wrote (a terminal must be read, or the app blocks writing to it)."""
    out, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_sighup_mid_training_saves_then_exits(tmp_path, tiny_mnist_root):
    """The SSH connection drops: the terminal sends SIGHUP. (SIGTERM takes the same handler; see
    test_sigterm_waits_for_the_trainer_to_save_then_exits.)"""
    signum = signal.SIGHUP
    root = tmp_path / "e"
    env = {**os.environ, "SAVI_EXPERIMENTS": str(root), "SAVI_DATASETS": str(tiny_mnist_root), "TERM": "xterm"}
    main, child = pty.openpty()
    os.set_blocking(main, False)
    process = subprocess.Popen(
        [sys.executable, "-c", APP], stdin=child, stdout=child, stderr=child, env=env, start_new_session=True
    )
    os.close(child)
    try:
        screen = drain(main, 3.0)
        assert b"No experiments yet" in screen, screen[-500:]
        for keys in (b"n", b"\t\t\t\t", b"500", b"\t", b"8", b"\x13"):  # epochs 500, batch 8, Ctrl+S: Start
            os.write(main, keys)
            drain(main, 0.4)
        deadline = time.monotonic() + 60
        experiment = None
        while time.monotonic() < deadline:
            drain(main, 0.2)
            folders = list(root.glob("*")) if root.exists() else []
            if folders and Experiment(folders[0]).is_running() and (folders[0] / "summary.txt").exists():
                experiment = folders[0]
                break
        assert experiment is not None, "the training did not start"
        drain(main, 0.5)
        process.send_signal(signum)
        end = time.monotonic() + 40
        while process.poll() is None and time.monotonic() < end:
            drain(main, 0.1)
        assert process.poll() == 128 + signum
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    progress = read_progress(experiment / "progress.json")
    assert not progress.finished and progress.error is None
    assert json.loads((experiment / "config.json").read_text())["epochs"] == 500
    assert (experiment / "status.pkl").is_file() and not Experiment(experiment).is_running()
