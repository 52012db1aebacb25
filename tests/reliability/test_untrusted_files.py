"""Files from someone else: pickles that would run code, and checkpoints with the wrong contents
(issue items 5 and 6).

A tamperer can rewrite the ``.sha256`` file too, so most files here carry a
valid checksum: the checksum proves only that the file is whole. What keeps
code from running is ``torch.load(weights_only=True)``, always, with no unsafe
fallback, even with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` in the environment.
"""

from __future__ import annotations

import os
import pickle
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from reliability_support import PYTHON, REPO, copy_root, subprocess_env, template_and_reference

from savi_tui import cli
from savi_tui.core.checkpoint import (
    checksum_path,
    load_checkpoint,
    load_checkpoint_with_fallback,
    previous_path,
    read_payload,
    serialize,
    sha256_of,
    write_payload,
)
from savi_tui.core.errors import CheckpointError
from savi_tui.core.runs import resume_run
from savi_tui.core.train_state import FORMAT_VERSION

NAME = "foreign"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An experiment stopped after 2 of 3 epochs (so status.prev.pkl exists), to copy per test."""
    base = tmp_path_factory.mktemp("untrusted")
    return template_and_reference(base, NAME, epochs=2, resume_to=3, batch_size=32)


class WritesMarker:
    """Unpickling this runs ``touch MARKER``: what a tamperer would put in a checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def _tampered(kind: str, payload: dict, marker: Path) -> bytes:
    evil = WritesMarker(marker)
    if kind == "torch zip, code in a value":
        return serialize({**payload, "history": [evil]})
    if kind == "torch zip, code at the top":
        return serialize(evil)
    if kind == "plain pickle":
        return pickle.dumps({**payload, "config": evil})
    if kind == "pickle protocol 0, by hand":
        return b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    raise AssertionError(kind)


KINDS = ["torch zip, code in a value", "torch zip, code at the top", "plain pickle", "pickle protocol 0, by hand"]


def _plant(path: Path, data: bytes, *, rewrite_checksum: bool) -> None:
    path.write_bytes(data)
    if rewrite_checksum:
        checksum_path(path).write_text(sha256_of(data) + "\n")


@pytest.mark.parametrize("kind", KINDS)
def test_the_tampered_files_really_run_code_when_loaded_unsafely(tmp_path, kind, trained):
    import torch

    template, _, _ = trained
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_tampered(kind, read_payload(template / NAME / "status.pkl"), marker))
    try:
        torch.load(path, weights_only=False)
    except Exception:
        pass  # the hand-made pickle is no torch file, but its code has run by then
    assert marker.exists(), "the test's tampered file is harmless: it proves nothing"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch's note on the plain pickle
@pytest.mark.parametrize("rewrite_checksum", [True, False], ids=["checksum rewritten", "checksum left"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_pickle_that_would_run_code_is_refused_and_never_runs(
    trained, tmp_path, monkeypatch, capsys, kind, rewrite_checksum
):
    import torch

    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    template, datasets, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    marker = tmp_path / "marker"
    status = folder / "status.pkl"
    data = _tampered(kind, read_payload(status), marker)
    for path in (status, previous_path(status), folder / "best.pkl"):  # no good file left to fall back on
        _plant(path, data, rewrite_checksum=rewrite_checksum)
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(k.get("weights_only")) or real_load(*a, **k))

    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(status)
    assert str(status) in str(caught.value) and "\n" not in str(caught.value)
    expected = "refused to load" if rewrite_checksum else "checksum mismatch"
    assert expected in str(caught.value)
    with pytest.raises(CheckpointError):
        load_checkpoint_with_fallback(status)
    argv = ["-ep", str(root), "--datasets-root", str(datasets)]
    assert cli.main(["train", "--resume", NAME, *argv]) == 1
    assert cli.main(["export", NAME, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("savi-tui: error:") == 2
    assert not marker.exists(), "a tampered checkpoint ran code"
    assert all(flag is True for flag in loads), f"torch.load called with weights_only={loads}"
    assert loads or not rewrite_checksum  # with a bad checksum nothing gets as far as torch.load


def test_a_tampered_status_falls_back_to_the_safe_previous_file_without_running_code(trained, tmp_path):
    template, _, _ = trained
    _, folder = copy_root(template, tmp_path, NAME)
    marker = tmp_path / "marker"
    status = folder / "status.pkl"
    good_previous = load_checkpoint(previous_path(status))
    _plant(status, _tampered(KINDS[0], read_payload(status), marker), rewrite_checksum=True)
    state, error = load_checkpoint_with_fallback(status)
    assert "refused to load" in str(error) and state.epoch_idx == good_previous.epoch_idx
    assert not marker.exists()


def test_the_environment_override_cannot_force_unsafe_loading_in_a_fresh_process(trained, tmp_path):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 set before python starts, the real CLI resuming."""
    template, datasets, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    marker = tmp_path / "marker"
    status = folder / "status.pkl"
    data = _tampered(KINDS[0], read_payload(status), marker)
    for path in (status, previous_path(status)):
        _plant(path, data, rewrite_checksum=True)
    result = subprocess.run(
        [PYTHON, "-m", "savi_tui", "train", "--resume", NAME, "-ep", str(root), "--datasets-root", str(datasets)],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1"),
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"savi-tui: error: training stopped: {status}: refused")
    assert not marker.exists()


def test_no_code_path_loads_a_pickle_unsafely():
    """The only loader is checkpoint.read_payload's torch.load(..., weights_only=True)."""
    sources = {path: path.read_text() for path in (REPO / "savi_tui").rglob("*.py")}
    unsafe = re.compile(r"weights_only\s*=\s*(False|None)|pickle\.loads?\(|add_safe_globals|safe_globals\(|dill|joblib")
    assert not [f"{path}: {m.group()}" for path, text in sources.items() for m in unsafe.finditer(text)]
    loads = [(path, m.start()) for path, text in sources.items() for m in re.finditer(r"torch\.load\(", text)]
    assert len(loads) == 1 and loads[0][0].name == "checkpoint.py"


# -- item 6: wrong contents, each with a valid checksum -------------------------------


def _other_model_weights(name: str) -> dict:
    from savi_tui.core.models import create_model

    return create_model(name).state_dict()


def _reshaped(weights: dict) -> dict:
    key = next(iter(weights))
    return {**weights, key: weights[key].reshape(-1)[: weights[key].numel() // 2].reshape(-1, 2)}


WRONG = {  # case → (change to a good status payload, what the error must say)
    "unknown key": (lambda p: {**p, "extra": 1}, "unknown key(s) extra"),
    "missing key": (lambda p: {k: v for k, v in p.items() if k != "rng_state"}, "missing key(s) rng_state"),
    "int as text": (lambda p: {**p, "epoch_idx": "0"}, "key 'epoch_idx' must be int, got str"),
    "bool as int": (lambda p: {**p, "batch_idx": True}, "key 'batch_idx' must be int, got bool"),
    "newer format": (
        lambda p: {**p, "format_version": FORMAT_VERSION + 1},
        f"format version {FORMAT_VERSION + 1} is newer than this savi-tui reads ({FORMAT_VERSION}); upgrade savi-tui",
    ),
    "format 0": (lambda p: {**p, "format_version": 0}, "format version 0 is not valid"),
    "not a dict": (lambda p: [p], "not a savi-tui checkpoint (a list, not a dict)"),
    "a bare tensor": (lambda p: p["model_state_dict"]["fc1.weight"], "not a savi-tui checkpoint (a Tensor"),
    "another model's weights": (
        lambda p: {**p, "model_name": "ModelConvNet", "model_state_dict": _other_model_weights("ModelConvNet")},
        "holds ModelConvNet weights, the experiment is ModelFullyConnected",
    ),
    "another model's weights under this name": (
        lambda p: {**p, "model_state_dict": _other_model_weights("ModelConvNet")},
        'weights do not fit ModelFullyConnected: Unexpected key(s) in state_dict: "conv1.weight"',
    ),
    "a weight of the wrong shape": (
        lambda p: {**p, "model_state_dict": _reshaped(p["model_state_dict"])},
        "weights do not fit ModelFullyConnected: size mismatch for",
    ),
    "a weight missing": (
        lambda p: {**p, "model_state_dict": dict(list(p["model_state_dict"].items())[1:])},
        "weights do not fit ModelFullyConnected: Missing key(s)",
    ),
    "an unknown weight": (
        lambda p: {**p, "model_state_dict": {**p["model_state_dict"], "fc9.weight": p["model_state_dict"]["fc1.bias"]}},
        'weights do not fit ModelFullyConnected: Unexpected key(s) in state_dict: "fc9.weight"',
    ),
    "optimizer of another model": (
        lambda p: {**p, "optimizer_state_dict": {**p["optimizer_state_dict"], "param_groups": []}},
        "optimizer state does not fit",
    ),
    "partial epoch without its sum": (
        lambda p: {**p, "partial_epoch": {"count": 0}},
        "training state does not fit: KeyError: 'loss_sum'",
    ),
    "partial epoch seconds not a number": (
        lambda p: {**p, "partial_epoch": {**p["partial_epoch"], "seconds": float("nan")}},
        "training state does not fit: ValueError: partial epoch seconds nan",
    ),
    "partial epoch seconds negative": (
        lambda p: {**p, "partial_epoch": {**p["partial_epoch"], "seconds": -3.0}},
        "training state does not fit: ValueError: partial epoch seconds -3.0",
    ),
    "an epoch record without its loss": (
        lambda p: {**p, "history": [{k: v for k, v in r.items() if k != "train_loss"} for r in p["history"]]},
        "training state does not fit: KeyError: 'train_loss'",
    ),
    "random state of the wrong type": (
        lambda p: {**p, "rng_state": {"torch": [1, 2, 3]}},
        "training state does not fit: TypeError: expected a torch.ByteTensor",
    ),
    "random state of the wrong size": (
        lambda p: {**p, "rng_state": {"torch": p["rng_state"]["torch"][:10]}},
        "training state does not fit: RuntimeError:",
    ),
}


@pytest.mark.parametrize("case", WRONG)
def test_wrong_contents_give_one_clear_line_naming_file_and_fault(trained, tmp_path, case):
    template, datasets, _ = trained
    root, folder = copy_root(template, tmp_path, NAME)
    status = folder / "status.pkl"
    change, expected = WRONG[case]
    write_payload(status, change(read_payload(status)))  # re-checksummed, as a copied folder would be
    previous_path(status).unlink()  # no fallback: the error itself is under test
    with pytest.raises(CheckpointError) as caught:
        resume_run(NAME, root=root, datasets_root=datasets).run()
    message = str(caught.value)
    assert message.startswith(f"{status}: ") and expected in message and "\n" not in message, message
