"""Exceptions and a full disk in the middle of a save (issue items 2 and 3).

Faults are injected into the real write path (``reliability_support.Faults``):
a file opened for writing writes half its bytes and raises, or ``os.fsync``,
``os.replace`` or ``os.link`` raise. Each test checks that the previous good
checkpoint still verifies and loads, no temp file is left, and the error
reaches the caller (the trainer's ``Failed`` event, the CLI's stderr).
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import replace

import pytest
from reliability_support import (
    Faults,
    assert_same_state,
    copy_root,
    temp_files,
    template_and_reference,
    tree_snapshot,
)

from savi_tui import cli
from savi_tui.core import events as ev
from savi_tui.core.checkpoint import load_checkpoint, previous_path, save_checkpoint
from savi_tui.core.progress import read_progress
from savi_tui.core.runs import resume_run
from savi_tui.core.train_state import TrainState

NAME = "faulty"


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """An experiment trained for one epoch (to copy per test), and its state after a clean second epoch."""
    base = tmp_path_factory.mktemp("faults")
    return template_and_reference(base, NAME, epochs=1, resume_to=2, batch_size=16)


def _versions(state: TrainState, count: int) -> list[TrainState]:
    """``count`` valid checkpoints that differ: version ``v`` has ``epoch_idx == v``."""
    return [replace(state, epoch_idx=version) for version in range(count)]


def test_an_exception_at_any_step_of_a_save_leaves_old_or_new_and_no_temp_file(one_epoch, tmp_path, monkeypatch):
    template, _, _ = one_epoch
    v0, v1, v2, v3 = _versions(load_checkpoint(template / NAME / "status.pkl"), 4)
    ready = tmp_path / "ready"
    ready.mkdir()
    save_checkpoint(ready / "status.pkl", v0, keep_previous=True)
    save_checkpoint(ready / "status.pkl", v1, keep_previous=True)
    shutil.copytree(ready, tmp_path / "count")
    with monkeypatch.context() as patch:
        counting = Faults(patch, os_calls=True)
        save_checkpoint(tmp_path / "count" / "status.pkl", v2, keep_previous=True)
    steps = counting.count
    assert steps >= 10, counting.ops  # two protocols of sidecar, data, sidecar: writes, fsyncs, renames, a link
    tried = 0
    for make_error in (lambda: OSError(errno.EIO, "injected I/O error"), lambda: RuntimeError("injected")):
        for at in range(steps):
            folder = tmp_path / f"case{tried}"
            shutil.copytree(ready, folder)
            path = folder / "status.pkl"
            with monkeypatch.context() as patch:
                faults = Faults(patch, at, os_calls=True, error=make_error)
                with pytest.raises((OSError, RuntimeError), match="injected"):
                    save_checkpoint(path, v2, keep_previous=True)
            where = f"error at step {at} ({faults.failed[0]})"
            assert temp_files(folder) == [], where
            assert load_checkpoint(path).epoch_idx in (1, 2), where
            assert load_checkpoint(previous_path(path)).epoch_idx in (0, 1), where
            save_checkpoint(path, v3, keep_previous=True)  # the next save after the failure works
            assert load_checkpoint(path).epoch_idx == 3, where
            assert load_checkpoint(previous_path(path)).epoch_idx in (1, 2), where
            tried += 1
    assert tried == 2 * steps


def test_torch_save_failing_halfway_changes_nothing_on_disk(one_epoch, tmp_path, monkeypatch):
    import torch

    template, _, _ = one_epoch
    root, folder = copy_root(template, tmp_path, NAME)
    before = tree_snapshot(root)

    def half_then_raise(payload, buffer, *args, **kwargs):
        buffer.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("injected: torch.save failed halfway")

    monkeypatch.setattr(torch, "save", half_then_raise)
    with pytest.raises(RuntimeError, match="injected"):
        save_checkpoint(folder / "status.pkl", load_checkpoint(folder / "status.pkl"), keep_previous=True)
    assert tree_snapshot(root) == before


def test_a_save_that_raises_during_training_reaches_the_user_and_keeps_the_last_epoch(
    one_epoch, tmp_path, monkeypatch, capsys
):
    import torch

    template, datasets, _ = one_epoch
    root, folder = copy_root(template, tmp_path, NAME)
    real_save = torch.save

    def half_then_raise(payload, buffer, *args, **kwargs):
        real_save(payload, buffer, *args, **kwargs)
        buffer.truncate(buffer.tell() // 2)
        raise RuntimeError("injected: torch.save failed halfway")

    monkeypatch.setattr(torch, "save", half_then_raise)
    argv = ["train", "--resume", NAME, "-ne", "2", "-ep", str(root), "--datasets-root", str(datasets)]
    assert cli.main(argv) == 1  # not swallowed: the run stops with the error's own words
    err = capsys.readouterr().err
    assert "failed: RuntimeError: injected: torch.save failed halfway" in err
    assert "savi-tui: error: training stopped: RuntimeError: injected: torch.save failed halfway" in err
    assert read_progress(folder / "progress.json").error.startswith("RuntimeError: injected")
    assert temp_files(folder) == []
    assert load_checkpoint(folder / "status.pkl").epoch_idx == 0
    assert load_checkpoint(folder / "best.pkl").epoch_idx == 0


def test_disk_full_at_each_write_of_an_epoch_stops_training_and_keeps_the_last_good_checkpoint(
    one_epoch, tmp_path, monkeypatch
):
    """The disk fills at the k-th write of a resumed epoch and stays full, for every k; then
    (for half the k) space is freed and the resumed run ends bit-identical to an undisturbed one."""
    template, datasets, reference = one_epoch
    root, _ = copy_root(template, tmp_path / "count", NAME)
    with monkeypatch.context() as patch:
        counting = Faults(patch)
        assert resume_run(NAME, root=root, epochs=2, datasets_root=datasets).run() == "finished"
    assert any("status.pkl" in op for op in counting.ops) and any("best.pkl" in op for op in counting.ops)
    for at in range(counting.count):
        root, folder = copy_root(template, tmp_path / f"full{at}", NAME)
        events = []
        with monkeypatch.context() as patch:
            faults = Faults(patch, at)
            trainer = resume_run(NAME, root=root, epochs=2, datasets_root=datasets, on_event=events.append)
            with pytest.raises(OSError) as caught:
                trainer.run()
        where = f"disk full from write {at} ({faults.failed[0]})"
        assert caught.value.errno == errno.ENOSPC, where
        target = faults.failed[0].split()[1].split(".tmp-")[0].lstrip(".")
        assert target in str(caught.value), f"{where}: the error does not name the file: {caught.value}"
        failed = [event.error for event in events if isinstance(event, ev.Failed)]
        assert len(failed) == 1 and "No space left on device" in failed[0] and target in failed[0], where
        assert temp_files(folder) == [], where
        assert load_checkpoint(folder / "status.pkl").epoch_idx in (0, 1), where
        assert load_checkpoint(folder / "best.pkl").epoch_idx in (0, 1), where
        if at % 2 == 0 or ".status.pkl.tmp-" in faults.failed[0]:  # half of them, to keep the suite quick
            assert resume_run(NAME, root=root, epochs=2, datasets_root=datasets).run() == "finished", where
            assert_same_state(load_checkpoint(folder / "status.pkl"), reference)


def test_disk_full_in_the_cli_ends_with_one_clear_error_line(one_epoch, tmp_path, monkeypatch, capsys):
    template, datasets, _ = one_epoch
    root, folder = copy_root(template, tmp_path, NAME)
    with monkeypatch.context() as patch:
        counting = Faults(patch)
        assert resume_run(NAME, root=root, epochs=2, datasets_root=datasets).run() == "finished"
    at = next(i for i, op in enumerate(counting.ops) if op.startswith("write .status.pkl.tmp-"))
    root, folder = copy_root(template, tmp_path / "full", NAME)
    Faults(monkeypatch, at)
    argv = ["train", "--resume", NAME, "-ne", "2", "-ep", str(root), "--datasets-root", str(datasets)]
    assert cli.main(argv) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("savi-tui: error: training stopped: ")
    assert "No space left on device" in last and "status.pkl" in last
    assert temp_files(folder) == []
    assert load_checkpoint(folder / "status.pkl").epoch_idx == 0
    assert load_checkpoint(folder / "best.pkl").epoch_idx in (0, 1)
