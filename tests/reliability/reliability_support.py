"""Helpers shared by the reliability tests: tiny runs, tree snapshots, temp files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from savi_tui.core.atomic import TEMP_MARK

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[2]


def make_datasets_root(folder: Path, train: int, test: int) -> Path:
    """A datasets root holding a tiny generated 'mnist' of ``train`` + ``test`` images."""
    from savi_tui.core.data import import_idx
    from tests.conftest import write_tiny_idx

    import_idx(write_tiny_idx(folder / "idx", train, test), "mnist", folder / "datasets")
    return folder / "datasets"


def train_tiny(root: Path, datasets: Path, name: str, **settings):
    """Train a new experiment in this process to its end; return its ``Experiment``."""
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.runs import new_run

    settings = {"batch_size": 32, "epochs": 2, "device": "cpu", **settings}
    trainer = new_run(TrainConfig(**settings), root=root, name=name, datasets_root=datasets)
    assert trainer.run() == "finished"
    return trainer.experiment


def tree_snapshot(root: Path) -> dict[str, object]:
    """Every path below ``root`` with its bytes (files), target (links) or ``None`` (folders)."""
    snapshot: dict[str, object] = {}
    if not root.exists():
        return snapshot
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                snapshot[key] = ("link", os.readlink(path))
            elif path.is_dir():
                snapshot[key] = None
            else:
                snapshot[key] = path.read_bytes()
    return snapshot


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARK in p.name)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child python: the repo importable, one fixed thread count."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), str(REPO / "tests"), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def assert_same_state(actual, expected) -> None:
    """Two checkpoints (``TrainState``) hold the same training state, every tensor bit for bit (``torch.equal``)."""
    import torch

    assert (actual.epoch_idx, actual.batch_idx) == (expected.epoch_idx, expected.batch_idx)
    assert actual.train_losses == expected.train_losses and actual.test_losses == expected.test_losses
    assert actual.best_epoch_idx == expected.best_epoch_idx
    assert actual.model_state_dict.keys() == expected.model_state_dict.keys()
    for key, tensor in expected.model_state_dict.items():
        assert torch.equal(actual.model_state_dict[key], tensor), f"parameter {key} differs"
    actual_optimizer, expected_optimizer = actual.optimizer_state_dict, expected.optimizer_state_dict
    assert actual_optimizer["param_groups"] == expected_optimizer["param_groups"]
    assert actual_optimizer["state"].keys() == expected_optimizer["state"].keys()
    for index, state in expected_optimizer["state"].items():
        assert state.keys() == actual_optimizer["state"][index].keys()
        for key, value in state.items():
            other = actual_optimizer["state"][index][key]
            assert torch.equal(other, value), f"optimizer state {index}.{key} differs"


class Faults:
    """Fault injection for the real write path: from the ``at``-th operation on, each one fails.

    Counted operations: each file opened for writing by ``core.atomic`` (its
    ``write`` writes half the bytes, then raises), and, with ``os_calls``, each
    ``os.fsync``, ``os.replace`` and ``os.link``. ``at=None`` only counts.
    ``error`` builds the exception; the default is ENOSPC, a full disk.
    """

    def __init__(self, monkeypatch, at: int | None = None, *, os_calls: bool = False, error=None) -> None:
        import builtins
        import errno

        from savi_tui.core import atomic

        self.at = at
        self.count = 0
        self.ops: list[str] = []  # what each counted operation was about
        self.failed: list[str] = []  # ... and each one that failed
        self.error = error or (lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        real_open = builtins.open

        def faulty_open(file, mode="r", *args, **kwargs):
            handle = real_open(file, mode, *args, **kwargs)
            if "w" in mode and self._fails(f"write {Path(file).name}"):
                return _HalfWriter(handle, self.error)
            return handle

        monkeypatch.setattr(atomic, "open", faulty_open, raising=False)
        if os_calls:
            for name in ("fsync", "replace", "link"):
                monkeypatch.setattr(os, name, self._wrap(name, getattr(os, name)))

    def _fails(self, what: str) -> bool:
        index, self.count = self.count, self.count + 1
        self.ops.append(what)
        if self.at is not None and index >= self.at:
            self.failed.append(what)
            return True
        return False

    def _wrap(self, name, real):
        def call(*args, **kwargs):
            if self._fails(f"{name} {args[-1]}"):
                raise self.error()
            return real(*args, **kwargs)

        return call


class _HalfWriter:
    def __init__(self, handle, error) -> None:
        self.handle, self.error = handle, error

    def write(self, data) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise self.error()

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def template_and_reference(base: Path, name: str, *, epochs: int, resume_to: int, **settings):
    """An experiment trained for ``epochs`` (a template each test copies), its datasets root,
    and the status.pkl state an undisturbed resume to ``resume_to`` epochs ends with."""
    from savi_tui.core.checkpoint import load_checkpoint
    from savi_tui.core.runs import resume_run

    datasets = make_datasets_root(base, train=64, test=16)
    template = base / "template"
    train_tiny(template, datasets, name, epochs=epochs, **settings)
    reference = base / "reference"
    shutil.copytree(template, reference)
    assert resume_run(name, root=reference, epochs=resume_to, datasets_root=datasets).run() == "finished"
    return template, datasets, load_checkpoint(reference / name / "status.pkl")


def copy_root(template: Path, tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A fresh copy of an experiments root: (root, the experiment's folder)."""
    root = tmp_path / "experiments"
    shutil.copytree(template, root)
    return root, root / name


class ForkServer:
    """``fork_server.py`` in a subprocess: one ``import torch`` for many training children
    (on ``cpus`` CPUs only, if given).

    ``expect`` reads its stdout protocol lines (every line read goes through
    ``on_line`` first); ``wait_stderr`` reads the children's stderr, with the
    time each line arrived.
    """

    def __init__(self, on_line=None, *, cpus: int = 0) -> None:
        import queue
        import subprocess
        import threading

        self.process = subprocess.Popen(
            [PYTHON, str(Path(__file__).with_name("fork_server.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=subprocess_env(COLUMNS="200", FORK_SERVER_CPUS=str(cpus)),
        )
        self.on_line = on_line or (lambda line: None)
        self.stdout: queue.Queue = queue.Queue()
        self.stderr: queue.Queue = queue.Queue()
        self.stderr_seen: list[str] = []
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, lines), daemon=True).start()
        self.expect("ready")

    @staticmethod
    def _pump(stream, lines) -> None:
        import time

        for raw in stream:
            lines.put((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))
        lines.put((time.monotonic(), "eof"))

    def fork(self, command: str) -> int:
        """Start a child (``resume ROOT DATASETS NAME`` or ``cli JSON``); its pid."""
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()
        return int(self.expect("child").split()[1])

    def expect(self, *prefixes: str, timeout: float = 120.0) -> str:
        line = self._read(self.stdout, prefixes, timeout, "fork server")[1]
        return line

    def wait_stderr(self, text: str, timeout: float = 120.0) -> float:
        """When a child's stderr line holding ``text`` arrived."""
        return self._read(self.stderr, (text,), timeout, "stderr", contains=True)[0]

    def _read(self, lines, wanted, timeout, what, *, contains=False):
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                when, line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{what}: none of {wanted} in {timeout}s; stderr: {self.stderr_seen}") from None
            if lines is self.stderr:
                self.stderr_seen.append(line)
            else:
                self.on_line(line)
            assert line != "eof", f"{what} ended before {wanted}; stderr: {self.stderr_seen}"
            if any(w in line for w in wanted) if contains else line.startswith(wanted):
                return when, line

    def exit_code(self, pid: int) -> int:
        return int(self.expect(f"exit {pid} ").split()[2])

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
