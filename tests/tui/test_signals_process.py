"""run_app in a real terminal (a pty): a hang-up mid-training saves, then the run goes on in the
background (or, with --on-hangup stop, stays stopped)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from savi_tui.core.experiments import Experiment
from savi_tui.core.progress import read_progress

APP = "import sys; from savi_tui.tui.app import run_app; sys.exit(run_app(on_hangup={!r}))"


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


def hang_up_mid_training(root: Path, datasets: Path, on_hangup: str, epochs: int, batch: int) -> tuple[Path, bytes]:
    """The app in a pty trains a new experiment; then the terminal hangs up. Returns the
    experiment and what the app wrote to the terminal."""
    env = {**os.environ, "SAVI_EXPERIMENTS": str(root), "SAVI_DATASETS": str(datasets), "TERM": "xterm"}
    main, child = pty.openpty()
    os.set_blocking(main, False)
    process = subprocess.Popen(
        [sys.executable, "-c", APP.format(on_hangup)],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    try:
        screen = drain(main, 3.0)
        assert b"No experiments yet" in screen, screen[-500:]
        os.write(main, b"n")
        shown, deadline = b"", time.monotonic() + 60
        while b"Trainable" not in shown:  # the torchinfo summary is in: the form no longer changes
            assert time.monotonic() < deadline, "the form's summary did not come"
            shown += drain(main, 0.2)
        # six stops from the model list to the epochs (past the FC options, name, dataset, recipe), then batch size
        for keys in (b"\t" * 6, str(epochs).encode(), b"\t", str(batch).encode(), b"\x13"):  # Ctrl+S: Start
            os.write(main, keys)
            drain(main, 0.4)
        deadline = time.monotonic() + 60
        experiment = None
        while time.monotonic() < deadline:
            drain(main, 0.2)
            folders = list(root.glob("*")) if root.exists() else []
            events = folders[0] / "events.jsonl" if folders else None
            if events is not None and events.exists() and "BatchProgress" in events.read_text():
                experiment = folders[0]
                break
        assert experiment is not None, "the training did not start"
        process.send_signal(signal.SIGHUP)
        out, end = b"", time.monotonic() + 40
        while process.poll() is None and time.monotonic() < end:
            out += drain(main, 0.1)
        assert process.poll() == 128 + signal.SIGHUP
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    return experiment, out


def test_sighup_with_on_hangup_stop_saves_then_exits(tmp_path, tiny_mnist_root):
    """The SSH connection drops: the terminal sends SIGHUP. (SIGTERM takes the same handler; see
    test_sigterm_waits_for_the_trainer_to_save_then_exits.)"""
    experiment, _ = hang_up_mid_training(tmp_path / "e", tiny_mnist_root, "stop", epochs=500, batch=8)
    progress = read_progress(experiment / "progress.json")
    assert not progress.finished and progress.error is None
    assert json.loads((experiment / "config.json").read_text())["epochs"] == 500
    assert (experiment / "status.pkl").is_file() and not Experiment(experiment).is_running()


def test_sighup_hands_the_run_over_and_it_ends_bit_identical_to_an_uninterrupted_run(tmp_path, tiny_mnist_root):
    from savi_tui.core.checkpoint import load_checkpoint
    from savi_tui.core.config import TrainConfig
    from tests.reliability.reliability_support import assert_same_state, train_tiny

    experiment, out = hang_up_mid_training(tmp_path / "e", tiny_mnist_root, "continue", epochs=12, batch=8)
    assert b"goes on in the background (pid " in out
    deadline = time.monotonic() + 120
    while not read_progress(experiment / "progress.json").finished:
        assert time.monotonic() < deadline, (experiment / "train.log").read_text()
        time.sleep(0.2)
    assert "resuming at epoch" in (experiment / "train.log").read_text()  # not a new run: a continued one
    config = TrainConfig.from_dict(json.loads((experiment / "config.json").read_text()))
    reference = train_tiny(tmp_path / "reference", tiny_mnist_root, "straight", **config.to_dict())
    for name in ("status.pkl", "best.pkl"):
        assert_same_state(load_checkpoint(experiment / name), load_checkpoint(reference.path / name))
