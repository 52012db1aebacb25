"""Experiment folders: names, listing with state, the lock, deletion."""

import hashlib
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from savi_tui.core.checkpoint import write_payload
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ExperimentError, ExperimentLocked
from savi_tui.core.experiments import (
    create_experiment,
    delete_experiment,
    folder_signature,
    generate_name,
    latest_resumable,
    list_experiments,
    open_experiment,
    validate_name,
)
from savi_tui.core.runs import new_run


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "", "a" * 101, "sp ace"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(ExperimentError, match="invalid experiment name"):
        validate_name(name)


def test_generated_names_are_readable_sortable_and_unique(tmp_path):
    moment = datetime(2026, 11, 27, 15, 30, 12)
    first = generate_name("ModelConvNet", tmp_path, moment)
    assert first == "2026-11-27_153012_ModelConvNet"
    (tmp_path / first).mkdir()
    assert generate_name("ModelConvNet", tmp_path, moment) == "2026-11-27_153012_ModelConvNet-2"


def test_an_existing_experiment_is_never_overwritten(tmp_path):
    create_experiment(tmp_path, "mine", TrainConfig())
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ExperimentError, match="already exists"):
        create_experiment(tmp_path, "mine", TrainConfig(epochs=3))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert open_experiment(tmp_path, "mine").read_config().epochs == 10


def test_list_shows_complete_interrupted_running_and_corrupt(tmp_path, tiny_mnist_root):
    new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name="a-complete", datasets_root=tiny_mnist_root).run()
    stopped = new_run(
        TrainConfig(epochs=2, batch_size=64), root=tmp_path, name="b-stopped", datasets_root=tiny_mnist_root
    )
    stopped.on_event = lambda e: stopped.request_stop() if type(e).__name__ == "EpochFinished" else None
    stopped.run()
    create_experiment(tmp_path, "c-running", TrainConfig())
    new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name="d-corrupt", datasets_root=tiny_mnist_root).run()
    with open(tmp_path / "d-corrupt" / "status.pkl", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff\x00\xff")
    (tmp_path / "e-broken").mkdir()
    (tmp_path / "e-broken" / "config.json").write_text("{not json")
    with open_experiment(tmp_path, "c-running").lock():
        infos = {info.name: info for info in list_experiments(tmp_path)}
        resumable = latest_resumable(tmp_path)
    assert {name: info.state for name, info in infos.items()} == {
        "a-complete": "complete",
        "b-stopped": "interrupted",
        "c-running": "running",
        "d-corrupt": "corrupt",
        "e-broken": "corrupt",
    }
    assert "checksum mismatch" in infos["d-corrupt"].problem and "status.pkl" in infos["d-corrupt"].problem
    done = infos["a-complete"]
    assert (done.epochs_done, done.epochs_planned, done.best_epoch, done.model) == (1, 1, 1, "ModelFullyConnected")
    assert 0 <= done.f1 <= 1 and done.best_test_loss > 0
    assert (infos["b-stopped"].epochs_done, infos["b-stopped"].epochs_planned) == (1, 2)
    assert resumable == "b-stopped"  # not the one that is running


def test_a_bare_resume_takes_the_newest_interrupted_experiment_whose_checkpoints_verify(tmp_path, tiny_mnist_root):
    for name, stamp in (("older", 1_000_000_000), ("newer", 1_100_000_000)):
        run = new_run(TrainConfig(epochs=2, batch_size=64), root=tmp_path, name=name, datasets_root=tiny_mnist_root)
        run.on_event = lambda e, run=run: run.request_stop() if type(e).__name__ == "EpochFinished" else None
        run.run()
        for path in [*(tmp_path / name).iterdir(), tmp_path / name]:
            os.utime(path, (stamp, stamp))
    assert latest_resumable(tmp_path) == "newer"
    (tmp_path / "newer" / "status.pkl").write_bytes(b"damaged")
    os.utime(tmp_path / "newer" / "status.pkl", (1_100_000_000, 1_100_000_000))
    assert latest_resumable(tmp_path) == "older"
    assert not (tmp_path / ".verified.json").exists()  # -rt records nothing


def test_listing_again_hashes_only_the_checkpoints_that_changed(tmp_path, tiny_mnist_root, monkeypatch):
    from savi_tui.core import verified

    for name in ("a", "b"):
        new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name=name, datasets_root=tiny_mnist_root).run()
    hashed = []
    hash_file = verified.hash_file
    monkeypatch.setattr(verified, "hash_file", lambda data: hashed.append(data.name) or hash_file(data))
    list_experiments(tmp_path)
    assert len(hashed) == 4  # status.pkl and best.pkl of each
    hashed.clear()
    list_experiments(tmp_path)  # the verdicts are in ROOT/.verified.json, for any later process
    assert hashed == [] and (tmp_path / ".verified.json").is_file()
    status = tmp_path / "b" / "status.pkl"
    before = status.stat()
    with open(status, "r+b") as handle:  # damaged in place, its modification time then set back
        handle.seek(100)
        byte = handle.read(1)[0]
        handle.seek(100)
        handle.write(bytes([byte ^ 1]))
    os.utime(status, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or `touch -r` would
    infos = {info.name: info for info in list_experiments(tmp_path)}
    assert hashed == [str(status)] and infos["b"].state == "corrupt" and infos["a"].state == "complete"
    hashed.clear()
    forged = {"version": verified.FORMAT_VERSION, "files": {"a/best.pkl": "forged"}}
    (tmp_path / ".verified.json").write_text(json.dumps(forged))
    assert [info.state for info in list_experiments(tmp_path)] == ["complete", "corrupt"]
    assert len(hashed) == 3  # a damaged record holds no verdict: hashed again, up to b's damaged status.pkl


def test_a_listing_knows_verified_checkpoints_by_its_scan_alone(tmp_path, tiny_mnist_root, monkeypatch):
    """Once verified, a checkpoint costs a listing no system call of its own: the folder scan's
    stat is its identity. A symlinked checkpoint, whose scan is of the link, is looked at again."""
    from savi_tui.core import verified

    for name in ("a", "b"):
        new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name=name, datasets_root=tiny_mnist_root).run()
    list_experiments(tmp_path)
    (tmp_path / "b" / "best.pkl").rename(tmp_path / "b-best.pkl")
    (tmp_path / "b" / "best.pkl").symlink_to(tmp_path / "b-best.pkl")
    list_experiments(tmp_path)  # b's best.pkl hashed again as the link's target
    looked_at = []
    stat = os.stat
    monkeypatch.setattr(verified.os, "stat", lambda path, *a, **k: looked_at.append(str(path)) or stat(path, *a, **k))
    assert [info.state for info in list_experiments(tmp_path)] == ["complete", "complete"]
    checkpoints = [path for path in looked_at if ".pkl" in path]
    assert checkpoints == [str(tmp_path / "b" / "best.pkl"), str(tmp_path / "b" / "best.pkl.sha256")]


def test_two_checks_at_once_hash_each_checkpoint_once(tmp_path, tiny_mnist_root, monkeypatch):
    """A second check that starts while the first still hashes a root (a reload in the app) waits
    for it and takes its verdicts."""
    from savi_tui.core import verified

    for name in ("a", "b"):
        new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name=name, datasets_root=tiny_mnist_root).run()
    hashed, hash_file = [], verified.hash_file

    def slow_hash(data):
        hashed.append(data.name)
        time.sleep(0.2)
        return hash_file(data)

    monkeypatch.setattr(verified, "hash_file", slow_hash)
    listings = [threading.Thread(target=list_experiments, args=(tmp_path,)) for _ in range(2)]
    for listing in listings:
        listing.start()
    for listing in listings:
        listing.join()
    assert sorted(hashed) == sorted(str(tmp_path / n / f) for n in ("a", "b") for f in ("best.pkl", "status.pkl"))


class _FailingEntry:
    """A directory entry whose stat fails as a damaged inode's or a network file system's would."""

    def __init__(self, entry, error: OSError) -> None:
        self.entry, self.error, self.name, self.path = entry, error, entry.name, entry.path

    def stat(self, follow_symlinks=True):
        raise self.error

    def is_dir(self):
        return self.entry.is_dir()

    def __fspath__(self):
        return self.path


def _scandir_failing(monkeypatch, fails):
    """``os.scandir`` as the listing sees it, with ``fails(path)`` raising for a folder or returning
    the names whose stat raises EIO."""
    from savi_tui.core import experiments

    real = os.scandir

    def scandir(path):
        failing = fails(os.fspath(path))
        entries = list(real(path))
        return [_FailingEntry(e, OSError(5, "Input/output error")) if e.name in failing else e for e in entries]

    monkeypatch.setattr(experiments.os, "scandir", scandir)


def test_a_checkpoint_whose_stat_fails_is_not_taken_as_absent(tmp_path, monkeypatch):
    experiment = create_experiment(tmp_path, "a", TrainConfig(epochs=1))
    write_payload(experiment.status_path, {"weights": 1})
    data = bytearray(experiment.status_path.read_bytes())
    data[-30] ^= 0xFF
    experiment.status_path.write_bytes(bytes(data))
    _scandir_failing(monkeypatch, lambda path: {"status.pkl"} if path.endswith("/a") else set())
    (info,) = list_experiments(tmp_path)
    assert info.state == "corrupt" and "status.pkl" in info.problem


def test_a_folder_that_cannot_be_read_is_listed_as_corrupt_saying_why(tmp_path, monkeypatch):
    create_experiment(tmp_path, "readable", TrainConfig(epochs=1))
    (tmp_path / "locked").mkdir()
    (tmp_path / "lost+found").mkdir()  # a file system's own folder, unreadable to users: not an experiment

    def fails(path):
        if path.endswith(("/locked", "/lost+found")):
            raise PermissionError(13, "Permission denied", path)
        return set()

    _scandir_failing(monkeypatch, fails)
    read_text = Path.read_text

    def read_text_unless_locked(path, *args, **kwargs):
        if path.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text_unless_locked)
    infos = {info.name: info for info in list_experiments(tmp_path)}
    assert set(infos) == {"readable", "locked"}
    assert infos["locked"].state == "corrupt" and "cannot be read (Permission denied)" in infos["locked"].problem


def test_an_appended_background_log_moves_the_modified_time(tmp_path):
    """train.log is appended in place by a background run, which moves no folder time."""
    experiment = create_experiment(tmp_path, "a", TrainConfig(epochs=1))
    log = experiment.background_log_path
    log.write_text("started\n")
    os.utime(experiment.path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    for path in experiment.path.iterdir():
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    before = folder_signature(tmp_path)
    with open(log, "a") as appended:
        appended.write("Traceback ...\n")
    assert folder_signature(tmp_path) != before
    (info,) = list_experiments(tmp_path)
    assert info.modified == pytest.approx(log.stat().st_mtime)


def test_a_replaced_checksum_file_is_read_again(tmp_path, tiny_mnist_root, monkeypatch):
    """The record knows a checkpoint with the checksum file that listed it: one that no longer
    lists the checkpoint's digest makes it corrupt, though the checkpoint itself never changed."""
    new_run(TrainConfig(epochs=1, batch_size=64), root=tmp_path, name="a", datasets_root=tiny_mnist_root).run()
    assert [info.state for info in list_experiments(tmp_path)] == ["complete"]
    sidecar = tmp_path / "a" / "best.pkl.sha256"
    before = sidecar.stat()
    sidecar.write_text(hashlib.sha256(b"another checkpoint").hexdigest() + "\n")
    os.utime(sidecar, ns=(before.st_atime_ns, before.st_mtime_ns))
    (info,) = list_experiments(tmp_path)
    assert info.state == "corrupt" and "best.pkl" in info.problem


def test_lock_names_its_holder_and_dies_with_it(tmp_path):
    experiment = create_experiment(tmp_path, "x", TrainConfig())
    with experiment.lock():
        with pytest.raises(ExperimentLocked, match=f"pid {os.getpid()} host"):
            experiment.lock().acquire()
        assert experiment.is_running()
    assert not experiment.is_running()


def test_delete_removes_the_folder_but_not_while_training(tmp_path):
    experiment = create_experiment(tmp_path, "x", TrainConfig())
    with experiment.lock():
        with pytest.raises(ExperimentLocked):
            delete_experiment(tmp_path, "x")
    assert experiment.path.exists()
    delete_experiment(tmp_path, "x")
    assert not experiment.path.exists()
