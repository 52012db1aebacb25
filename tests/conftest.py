"""Shared fixtures: tiny generated datasets, so no test reads ~/data or the network."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest


def write_tiny_idx(folder: Path, train: int = 256, test: int = 64, seed: int = 0) -> Path:
    """Write the four gzipped MNIST IDX files of a small learnable dataset.

    Digit ``k`` is a bright 6x6 block at a position that depends on ``k``, plus
    noise, so a fully connected net learns it within an epoch or two.
    """
    import random

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def images_and_labels(count: int) -> tuple[bytes, bytes]:
        pixels, labels = bytearray(), bytearray()
        for index in range(count):
            label = index % 10
            image = bytearray(rng.randrange(0, 40) for _ in range(28 * 28))
            row, col = 2 + (label // 5) * 12, 2 + (label % 5) * 5
            for r in range(row, row + 6):
                for c in range(col, col + 4):
                    image[r * 28 + c] = 255
            pixels += image
            labels.append(label)
        return (
            struct.pack(">IIII", 0x00000803, count, 28, 28) + bytes(pixels),
            struct.pack(">II", 0x00000801, count) + bytes(labels),
        )

    for prefix, count in (("train", train), ("t10k", test)):
        images, labels = images_and_labels(count)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(images, mtime=0))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels, mtime=0))
    return folder


@pytest.fixture(scope="session")
def tiny_mnist_root(tmp_path_factory) -> Path:
    """A datasets root (what SAVI_DATASETS points at) holding a tiny 'mnist': 256 train, 64 test images."""
    from savi_tui.core.data import import_idx

    base = tmp_path_factory.mktemp("tiny_mnist")
    import_idx(write_tiny_idx(base / "idx"), "mnist", base / "datasets")
    return base / "datasets"


@pytest.fixture(autouse=True)
def _isolated_savi_roots(tmp_path, monkeypatch):
    """Point the default roots at temporary folders, so a test can never touch ~/data."""
    monkeypatch.setenv("SAVI_EXPERIMENTS", str(tmp_path / "default_experiments"))
    monkeypatch.setenv("SAVI_DATASETS", str(tmp_path / "default_datasets"))


def start_run(root, datasets, cfg, *, name: str = "run", stop_when=None):
    """A new run not started yet, and the list its events will go to; ``stop_when(event)``
    true asks it to stop (at the next batch)."""
    from savi_tui.core.runs import new_run

    seen = []

    def on_event(event):
        seen.append(event)
        if stop_when is not None and stop_when(event):
            trainer.request_stop()

    trainer = new_run(cfg, root=root, name=name, datasets_root=datasets, on_event=on_event)
    return trainer, seen


def start_cli_training(root, datasets, name="run", epochs=500):
    """``savi-tui train`` in a process of its own; returns it once it holds the experiment."""
    argv = [sys.executable, "-m", "savi_tui", "train", "-n", name, "-ne", str(epochs), "-bs", "8"]
    argv += ["-ep", str(root), "--datasets-root", str(datasets), "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    from savi_tui.core.experiments import Experiment

    experiment = Experiment(root / name)
    deadline = time.monotonic() + 60
    while not (experiment.events_path.exists() and experiment.is_running()):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the training did not start"
        time.sleep(0.05)
    return process, experiment
