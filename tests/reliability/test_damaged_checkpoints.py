"""Truncated, bit-flipped or unverifiable checkpoints (issue item 4).

Each damage is detected at load by the checksum beside the file (torch.load
itself would load a flipped weight silently), reported in one line that names
the file, and never loaded. Resume falls back to ``status.prev.pkl``; the list
shows the experiment as corrupt instead of crashing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from reliability_support import Faults, assert_same_state, copy_root, temp_files, template_and_reference

from savi_tui import cli
from savi_tui.core.checkpoint import checksum_path, load_checkpoint, previous_path, save_checkpoint
from savi_tui.core.errors import CheckpointError
from savi_tui.core.experiments import list_experiments

NAME = "hurt"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An experiment stopped after 2 of 3 epochs (to copy per test), and the state a clean resume ends with."""
    base = tmp_path_factory.mktemp("damaged")
    return template_and_reference(base, NAME, epochs=2, resume_to=3, batch_size=32)


def _weight_offset(path: Path) -> int:
    """Where the bytes of the first weight tensor lie in a checkpoint file."""
    weight = next(iter(load_checkpoint(path).model_state_dict.values()))
    offset = path.read_bytes().find(weight.numpy().tobytes()[:64])
    assert offset > 0
    return offset


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


DAMAGES = {
    "truncated to half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "truncated by one byte": lambda p: p.write_bytes(p.read_bytes()[:-1]),
    "emptied": lambda p: p.write_bytes(b""),
    "a byte appended": lambda p: p.write_bytes(p.read_bytes() + b"\0"),
    "one bit flipped in a weight": lambda p: _flip(p, _weight_offset(p) + 101),
    "one bit flipped in the zip header": lambda p: _flip(p, 7),
    "last byte flipped": lambda p: _flip(p, p.stat().st_size - 1),
    "checksum file missing": lambda p: checksum_path(p).unlink(),
    "checksum file emptied": lambda p: checksum_path(p).write_text(""),
    "checksum file not text": lambda p: checksum_path(p).write_bytes(b"\xff\xfe\x00garbage"),
    "checksum of another file": lambda p: shutil.copy(checksum_path(previous_path(p)), checksum_path(p)),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("filename", ["status.pkl", "best.pkl"])
def test_damage_is_detected_named_in_one_line_and_shown_as_corrupt(trained, tmp_path, damage, filename):
    template, _, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    path = folder / filename
    assert list_experiments(root)[0].state != "corrupt"  # listed whole first: its verdict is not kept
    DAMAGES[damage](path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    (info,) = list_experiments(root)
    assert info.state == "corrupt" and str(path) in info.problem


def test_torch_alone_would_load_a_flipped_weight_so_the_checksum_is_what_guards(trained, tmp_path):
    import torch

    template, _, _ = trained
    _, folder = copy_root(template, tmp_path, NAME)
    path = folder / "status.pkl"
    original = load_checkpoint(path).model_state_dict
    _flip(path, _weight_offset(path) + 101)
    flipped = torch.load(path, weights_only=True)["model_state_dict"]  # no error: the damage is silent
    assert any(not torch.equal(flipped[key], original[key]) for key in original)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(path)


def test_resume_falls_back_to_the_previous_checkpoint_and_ends_bit_identical(trained, tmp_path, capsys):
    template, datasets, reference = trained
    root, folder = copy_root(template, tmp_path, NAME)
    _flip(folder / "status.pkl", _weight_offset(folder / "status.pkl") + 101)
    argv = ["train", "--resume", NAME, "-ne", "3", "-ep", str(root), "--datasets-root", str(datasets)]
    assert cli.main(argv) == 0
    err = "".join(capsys.readouterr().err.split())  # rich wraps long lines, even inside a word
    expected = f"{folder / 'status.pkl'}: checksum mismatch, the file is damaged or truncated"
    assert "".join(expected.split()) in err and "resumingfromthepreviouscheckpoint" in err
    assert_same_state(load_checkpoint(folder / "status.pkl"), reference)
    assert list_experiments(root)[0].state == "complete"


def test_resume_refuses_when_no_good_checkpoint_is_left(trained, tmp_path, capsys):
    template, datasets, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    for path in (folder / "status.pkl", folder / "status.prev.pkl"):
        _flip(path, _weight_offset(path) + 101)
    damaged = {p.name: p.read_bytes() for p in folder.glob("status*")}
    argv = ["train", "--resume", NAME, "-ep", str(root), "--datasets-root", str(datasets)]
    assert cli.main(argv) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"savi-tui: error: training stopped: {folder / 'status.pkl'}: " + (
        f"checksum mismatch, the file is damaged or truncated ({len(damaged['status.pkl'])} bytes)"
    )
    assert {p.name: p.read_bytes() for p in folder.glob("status*")} == damaged  # reported, not replaced
    assert list_experiments(root)[0].state == "corrupt"


def test_export_refuses_a_damaged_best_checkpoint(trained, tmp_path, capsys):
    template, _, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    DAMAGES["truncated to half"](folder / "best.pkl")
    assert cli.main(["export", NAME, "-ep", str(root)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"savi-tui: error: {folder / 'best.pkl'}: checksum mismatch")
    assert not (folder / "model.onnx").exists()


def test_a_save_that_fails_midway_never_vouches_for_a_file_damaged_before_it(trained, tmp_path, monkeypatch):
    """status.pkl is damaged on disk; the next save lists checksums, then fails (disk full) before
    it replaces the file. The damaged file must still be refused, not become 'the current version'."""
    template, _, _ = trained
    _, folder = copy_root(template, tmp_path, NAME)
    path = folder / "status.pkl"
    state = load_checkpoint(path)
    _flip(path, _weight_offset(path) + 101)
    with monkeypatch.context() as patch:
        counting = Faults(patch)
        save_checkpoint(tmp_path / "count.pkl", state, keep_previous=True)
    data_write = next(i for i, op in enumerate(counting.ops) if op.startswith("write .count.pkl.tmp-"))
    with monkeypatch.context() as patch:
        Faults(patch, data_write)
        with pytest.raises(OSError, match="No space left on device"):
            save_checkpoint(path, state, keep_previous=True)
    assert temp_files(folder) == []
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(path)


def _write(relative: str, content: str | bytes):
    def damage(folder: Path) -> None:
        path = folder / relative
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)

    return damage


FOLDER_DAMAGES = {
    "config.json not JSON": _write("config.json", "{"),
    "config.json a list": _write("config.json", "[]"),
    "config.json wrong type": _write("config.json", '{"batch_size": "32"}'),
    "config.json not UTF-8": _write("config.json", b"\xff\xfe{}"),
    "progress.json not JSON": _write("progress.json", "{"),
    "progress.json a list": _write("progress.json", "[1, 2]"),
    "progress.json a number": _write("progress.json", "3"),
    "progress.json history not a list": _write("progress.json", '{"history": 5}'),
    "progress.json history of numbers": _write("progress.json", '{"history": [1, 2]}'),
    "progress.json batch not a number": _write("progress.json", '{"batch_idx": "x", "history": []}'),
    "progress.json best epoch out of range": _write("progress.json", '{"best_epoch": 9, "history": []}'),
    "status.pkl a folder": lambda f: ((f / "status.pkl").unlink(), (f / "status.pkl").mkdir()),
    "a dangling symlink": lambda f: (f / "notes.txt").symlink_to(f / "gone"),
}


def test_the_list_shows_damaged_folders_as_corrupt_and_never_crashes(trained, tmp_path, capsys):
    template, _, _ = trained
    root = tmp_path / "experiments"
    for index, damage in enumerate(FOLDER_DAMAGES.values()):
        shutil.copytree(template / NAME, root / f"d{index:02d}", symlinks=True)
        damage(root / f"d{index:02d}")
    infos = {info.name: info for info in list_experiments(root)}
    assert len(infos) == len(FOLDER_DAMAGES)
    for index, case in enumerate(FOLDER_DAMAGES):
        info = infos[f"d{index:02d}"]
        if case == "a dangling symlink":  # harmless: the experiment itself is whole
            assert info.state == "complete", case
        else:
            assert info.state == "corrupt" and info.problem and "\n" not in info.problem, (case, info)
    assert cli.main(["list", "-ep", str(root)]) == 0
    assert capsys.readouterr().out.count("corrupt") == len(FOLDER_DAMAGES) - 1
    for index in range(len(FOLDER_DAMAGES)):
        assert cli.main(["show", f"d{index:02d}", "-ep", str(root)]) in (0, 2)
