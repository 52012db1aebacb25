"""kill -9 while a real training saves, again and again (issue items 1 and 8).

One fork server (``fork_server.py``) imports torch once; each round forks a
child that resumes the experiment with the real ``resume_run``/``Trainer.run``
and trains tiny one-batch epochs, saving status.pkl and best.pkl every epoch.
The test kills the child with SIGKILL, half the time at a random moment and
half the time just after one checkpoint of an epoch was saved, when the next
save is under way. After every kill it checks, without the fallback loader:

* status.pkl, best.pkl and their .prev files verify and load;
* each is the last version announced as saved or the one being written;
* best.pkl holds the epoch status.pkl calls best (or a newer one that the
  resumed run redoes), so no best epoch is lost between the two saves;
* the lock died with the child; the next start sweeps the temp files the kill
  left and resumes.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from reliability_support import ForkServer, make_datasets_root, temp_files

from savi_tui.core.checkpoint import CHECKSUM_SUFFIX, load_checkpoint, previous_path
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ExperimentLocked
from savi_tui.core.experiments import Experiment, ExperimentLock, create_experiment
from savi_tui.core.train_state import TrainState

KILLS = 32
SEED = 1127


class Saves:
    """What the children announced as saved, from the fork server's lines; any error line fails."""

    def __init__(self) -> None:
        self.saved_status = 0  # highest epoch a CheckpointSaved announced (or found on disk)
        self.saved_best = 0  # highest epoch a BestUpdated announced (or found on disk)

    def __call__(self, line: str) -> None:
        word, *rest = line.split()
        assert word != "error", f"training child: {line}"
        if word == "status":
            self.saved_status = max(self.saved_status, int(rest[0]))
        elif word == "best":
            self.saved_best = max(self.saved_best, int(rest[0]))


def _epoch(state: TrainState) -> int:
    return state.epochs_done


def _check_after_kill(folder: Path, lines: Saves) -> None:
    status_path, best_path = folder / "status.pkl", folder / "best.pkl"
    if not status_path.exists():
        assert lines.saved_status == 0, "status.pkl vanished after it was saved"
        return
    status = load_checkpoint(status_path)  # verifies the checksum; raises rather than fall back
    assert _epoch(status) in (lines.saved_status, lines.saved_status + 1), (
        f"status.pkl holds epoch {_epoch(status)}, saved were up to {lines.saved_status}"
    )
    lines.saved_status = _epoch(status)  # a save may end just before its announcement: the disk says
    assert status.batch_idx == 0 and len(status.history) == _epoch(status)
    if best_path.exists():
        best = load_checkpoint(best_path)
        assert _epoch(best) in (lines.saved_best, lines.saved_best + 1)
        lines.saved_best = _epoch(best)
        assert best.epoch_idx == status.best_epoch_idx or best.epoch_idx > status.epoch_idx, (
            f"status.pkl says the best epoch is {status.best_epoch} "
            f"but best.pkl holds epoch {_epoch(best)}: that best epoch is lost"
        )
    else:
        assert lines.saved_best == 0 and status.best_epoch_idx is None
    for path in (status_path, best_path):
        if previous_path(path).exists():
            assert _epoch(load_checkpoint(previous_path(path))) <= _epoch(load_checkpoint(path))


def _mid_save(folder: Path) -> bool:
    """A kill landed inside a save: a temp file is left, or a checksum file still lists two versions."""
    sidecars = [p.read_text().split() for p in folder.glob(f"*{CHECKSUM_SUFFIX}")]
    return bool(temp_files(folder)) or any(len(digests) > 1 for digests in sidecars)


def test_kill_9_at_random_moments_never_loses_or_damages_a_checkpoint(tmp_path, record_property):
    datasets = make_datasets_root(tmp_path, train=64, test=16)
    root = tmp_path / "experiments"
    config = TrainConfig(batch_size=64, epochs=100_000, device="cpu")  # one batch an epoch, never finishes
    experiment: Experiment = create_experiment(root, "killed", config)
    folder = experiment.path
    lines = Saves()
    server = ForkServer(on_line=lines)
    rng = random.Random(SEED)
    counts = {"mid_save": 0, "between_saves": 0}
    left_by_kill: set[str] = set()
    try:
        for round_idx in range(KILLS + 1):
            pid = server.fork(f"resume {root} {datasets} killed")
            server.expect("started")
            # the new start swept what the last kill left (its names carry the dead pid)
            assert not left_by_kill & set(temp_files(folder)), f"temp files survived a restart: {left_by_kill}"
            with pytest.raises(ExperimentLocked, match=rf"pid {pid} host \S+"):
                ExperimentLock(experiment.lock_path).acquire()
            if round_idx == KILLS:  # the last round only proves the sweep and that training goes on
                server.expect("status", "best")
            elif round_idx % 2:
                server.expect("status", "best")  # one save of an epoch is done, the other starts now
                time.sleep(rng.uniform(0.0, 0.03))
            else:
                time.sleep(rng.uniform(0.02, 1.0))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it died by itself: the next line read shows why
            assert server.exit_code(pid) == -signal.SIGKILL
            left_by_kill = set(temp_files(folder))
            if round_idx < KILLS:
                counts["mid_save" if _mid_save(folder) else "between_saves"] += 1
            assert not experiment.is_running(), "the lock outlived its kill -9'd holder"
            _check_after_kill(folder, lines)
    finally:
        server.close()
    assert lines.saved_status >= 3, "too few epochs were saved for the kills to mean anything"
    summary = f"{KILLS} kills: {counts['mid_save']} mid-save, {counts['between_saves']} between saves; "
    summary += f"{lines.saved_status} epochs saved, none lost"
    record_property("kill_summary", summary)
    print(f"\n{summary}")
