"""Helpers for the app's tests: fixed experiments on disk (no torch), a fixed clock, polling."""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from textual.widgets import Input

from savi_tui.core.config import TrainConfig
from savi_tui.core.events import EpochRecord
from savi_tui.core.experiments import create_experiment
from savi_tui.core.models import ModelSummary, SummaryRow
from savi_tui.core.progress import Progress, write_progress
from savi_tui.tui.app import SaviApp
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.training_session import ActiveRun

FIXED_NOW = datetime(2026, 3, 14, 15, 9, 26)
FIXED_MTIME = datetime(2026, 3, 14, 12, 0, 0).timestamp()


def history(epochs: int, best: int | None = None) -> list[EpochRecord]:
    """Plausible, fixed loss curves: the test loss bottoms out at ``best``."""
    best = best or epochs
    records = []
    for epoch in range(1, epochs + 1):
        train = 1.2 / (epoch + 0.5)
        test = 0.9 / (epoch + 0.5) + 0.06 * max(0, epoch - best) ** 1.2
        accuracy, f1 = 0.9 + 0.012 * min(epoch, best), 0.9 + 0.011 * min(epoch, best)
        records.append(EpochRecord(epoch, train, test, accuracy, f1, 12.5))
    return records


def make_experiment(
    root: Path,
    name: str,
    *,
    model: str = "ModelFullyConnected",
    epochs_done: int = 0,
    epochs_planned: int = 5,
    best: int | None = None,
    finished: bool = False,
    batch_idx: int = 0,
    minutes: int = 0,
) -> Path:
    """An experiment folder as the trainer leaves it (config + progress; no checkpoints, no torch)."""
    experiment = create_experiment(root, name, TrainConfig(model=model, epochs=epochs_planned, batch_size=64))
    records = history(epochs_done, best)
    best_epoch = (best or epochs_done) if epochs_done else None
    write_progress(
        experiment.progress_path,
        Progress(
            epochs_planned=epochs_planned,
            history=tuple(records),
            batch_idx=batch_idx,
            batches_per_epoch=938,  # 60,000 images in batches of 64
            finished=finished,
            best_epoch=best_epoch,
            best_test_loss=records[best_epoch - 1].test_loss if best_epoch else None,
            updated="2026-03-14T12:00:00+00:00",
        ),
    )
    stamp = FIXED_MTIME + 60 * minutes
    for entry in [*experiment.path.iterdir(), experiment.path]:
        os.utime(entry, (stamp, stamp))
    return experiment.path


def make_four_experiments(root: Path) -> None:
    make_experiment(root, "mnist-fc-baseline", epochs_done=10, epochs_planned=10, best=8, finished=True, minutes=1)
    make_experiment(
        root, "mnist-convnet", model="ModelConvNet", epochs_done=3, epochs_planned=10, batch_idx=40, minutes=2
    )
    make_experiment(
        root,
        "mnist-better-cnn",
        model="ModelBetterCNN",
        epochs_done=5,
        epochs_planned=5,
        best=5,
        finished=True,
        minutes=3,
    )
    broken = make_experiment(root, "broken-run", epochs_done=0, minutes=0)
    (broken / "config.json").write_text("{not json")
    for path in (broken / "config.json", broken):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def make_app(experiments_root: Path, datasets_root: Path | None = None) -> SaviApp:
    return SaviApp(experiments_root, datasets_root or experiments_root.parent / "no-datasets", clock=lambda: FIXED_NOW)


async def wait_for(pilot, predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app run until ``predicate()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


# What core.models.model_summary gives (72 columns), without importing torch in the tests.
FC_SUMMARY = """\
========================================================================
Layer (type:depth-idx)                   Output Shape     Param #
========================================================================
ModelFullyConnected                      [1, 10]          --
├─Linear: 1-1                            [1, 128]         100,480
├─Sigmoid: 1-2                           [1, 128]         --
├─Linear: 1-3                            [1, 10]          1,290
========================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
Total mult-adds (Units.MEGABYTES): 0.10
========================================================================
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.41
Estimated Total Size (MB): 0.41
========================================================================"""

# ...and with its rows, as core.models.summarize_model gives it (tests/core/test_models.py checks them).
FC_MODEL_SUMMARY = ModelSummary(
    FC_SUMMARY,
    rows=(
        SummaryRow("ModelFullyConnected", 0, (1, 10), 0),
        SummaryRow("Linear", 1, (1, 128), 100_480),
        SummaryRow("Sigmoid", 1, (1, 128), 0),
        SummaryRow("Linear", 1, (1, 10), 1_290),
    ),
    total_params=101_770,
    trainable_params=101_770,
)


LIVE_NAME = "2026-03-14_150926_ModelConvNet"


def live_events(stopped: bool = False) -> list:
    """A run's events up to its 6th of 10 epochs, its best at epoch 4 (and its stop, if ``stopped``)."""
    from savi_tui.core import events as ev

    name = LIVE_NAME
    events = [ev.RunStarted(name, "ModelConvNet", "cpu", 10, 1, 0, 118, 60000, 10000)]
    for record in history(5, best=4):
        events.append(ev.CheckpointSaved(f"{name}/status.pkl", ev.Position(record.epoch, 118, 118)))
        if record.epoch <= 4:
            events.append(ev.BestUpdated(f"{name}/best.pkl", record.epoch, record.test_loss))
        events.append(ev.EpochFinished(record, record.epoch <= 4, min(record.epoch, 4)))
    for batch in range(4, 72, 4):
        events.append(ev.BatchProgress(6, batch, 118, 0.16 - 0.0004 * batch + 0.01 * (batch % 3), 21_500.0))
    if stopped:
        events.append(ev.CheckpointSaved(f"{name}/status.pkl", ev.Position(6, 68, 118)))
        events.append(ev.Stopped(ev.Position(6, 68, 118), f"savi-tui train --resume {name}"))
    return events


def live_view(stopped: bool = False):
    """A run in its 6th of 10 epochs, its best at epoch 4, as the trainer's events would leave it."""
    from savi_tui.tui.run_state import RunView

    view = RunView(LIVE_NAME, model="ModelConvNet", dataset="mnist", epochs=10)
    for event in live_events(stopped):
        view.apply(event)
    return view


def write_event_log(path: Path, events: list) -> None:
    """``events.jsonl`` as a trainer writes it (every progress event kept)."""
    from savi_tui.core.run_log import RunLogWriter

    writer = RunLogWriter(path, progress_interval=0.0)  # keep each one: a test's events are not a second apart
    writer.start()
    for event in events:
        writer.write(event)
    writer.close()


@asynccontextmanager
async def live_training_screen(experiments_root: Path, size: tuple[int, int] = (80, 24)):
    """The app showing ``live_view()`` as its one training, with no thread behind it: post
    ``TrainingEvent(run.run_id, ...)`` to play the trainer. Yields ``(app, pilot, run)``."""
    app = make_app(experiments_root)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        app.training.active_run = run = ActiveRun(7, live_view())
        await app.push_screen(TrainingScreen(run.view))
        try:
            yield app, pilot, run
        finally:
            run.done.set()


NAME = FIXED_NOW.strftime("%Y-%m-%d_%H%M%S") + "_ModelFullyConnected"  # what the form generates


async def open_form(pilot, **values) -> NewExperimentScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentsScreen) and pilot.app.screen.loaded)
    await pilot.press("n")
    screen = pilot.app.screen
    assert isinstance(screen, NewExperimentScreen)
    for field, value in values.items():
        screen.query_one(f"#{field}", Input).value = str(value)
    return screen


async def start_training(pilot, epochs: int, batch_size: int = 16):
    """New experiment with the generated name → Start; returns once batches are flowing."""
    await open_form(pilot, epochs=epochs, batch_size=batch_size)
    await pilot.press("ctrl+s")
    app = pilot.app
    assert isinstance(app.screen, TrainingScreen)
    await wait_for(
        pilot,
        lambda: app.training.active_run.view.state == "running" and app.training.active_run.view.batch >= 1,
        what="the first batches",
    )
    return app.training.active_run


FIRST_SCREEN = """
import asyncio, json, sys
from savi_tui.tui.app import SaviApp

async def main():
    app = SaviApp(sys.argv[1], sys.argv[2])
    async with app.run_test(size=(80, 24)) as pilot:
        while not getattr(app.screen, "loaded", False):
            await pilot.pause(0.02)
        await app.workers.wait_for_complete()
        shown = {"infos": len(app.screen.infos), "groups": len(app.screen.table.groups)}
    print(json.dumps({**shown, "imported": sorted({"scipy", "torch"} & set(sys.modules))}))

asyncio.run(main())
"""


def first_screen_in_a_fresh_process(root: Path) -> dict:
    """The experiments list of ``root`` in a fresh interpreter: how many experiments and groups it
    listed, and which of the heavy modules (torch, scipy) it imported on the way."""
    import json
    import subprocess
    import sys

    command = [sys.executable, "-c", FIRST_SCREEN, str(root), str(root.parent / "no-datasets")]
    result = subprocess.run(command, timeout=60, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
