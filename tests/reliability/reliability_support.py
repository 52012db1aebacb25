"""Helpers shared by the reliability tests: tiny runs, tree snapshots, temp files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from savi_tui.core.atomic import TEMP_MARK

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[2]


def make_datasets_root(folder: Path, train: int, test: int) -> Path:
    """A datasets root holding a tiny generated 'mnist' of ``train`` + ``test`` images."""
    from conftest import write_tiny_idx

    from savi_tui.core.data import import_idx

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
