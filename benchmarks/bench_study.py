"""The ``study`` section of ``bench.py``: a root of 1,000 experiments and a comparison of 20 runs.

- a generated root with every file a finished training leaves (config.json, progress.json with 10
  epochs, statistics.json, summary.txt, the lock file, events.jsonl, training.png,
  confusion_matrix.png, predictions.bin, and status.pkl and best.pkl with their checksums and
  previous versions, each the size of its model's real training state; about 7.5 GB in a temporary
  folder): half of it in groups of five seeds;
- the app at 120x40: from start to the listed table, a filter typed, a sort; ``savi-tui list`` in a
  fresh process;
- the compare screen of 20 runs: the slowest of its keys (charts, tabs), from press to drawn,
  without animations (a tab's underline slides for 0.3 s after its content is shown).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXPERIMENTS, GROUP_SIZE, EPOCHS = 1000, 5, 10


def generate_root(root: Path, count: int = EXPERIMENTS) -> None:
    """``count`` finished experiments as the trainer leaves them; every other one in a group."""
    from savi_tui.core.atomic import atomic_write_json
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.events import EpochRecord
    from savi_tui.core.experiments import create_experiment
    from savi_tui.core.metrics import statistics_from_confusion
    from savi_tui.core.progress import Progress, write_progress

    models = ("ModelFullyConnected", "ModelConvNet", "ModelBetterCNN")
    checkpoints = _checkpoint_templates(root.parent / "checkpoint-templates", models)
    for index in range(count):
        grouped = index % 2 == 0
        group = f"study-{index // (2 * GROUP_SIZE):03d}" if grouped else None
        seed = (index // 2) % GROUP_SIZE if grouped else index % 7
        name = f"{group}-s{seed}" if grouped else f"run-{index:04d}"
        config = TrainConfig(model=models[index % 3], epochs=EPOCHS, seed=seed, group=group)
        experiment = create_experiment(root, name, config)
        quality = 0.9 + (index % 97) / 1000
        history = tuple(
            EpochRecord(e, 0.5 / e, 0.4 / e + 0.01 * e, quality + 0.005 * e, quality + 0.005 * e, 20.0)
            for e in range(1, EPOCHS + 1)
        )
        best = min(history, key=lambda r: r.test_loss)
        write_progress(
            experiment.progress_path,
            Progress(EPOCHS, history, 0, 118, True, best.epoch, best.test_loss),
        )
        errors = [(index + d) % 9 for d in range(10)]
        matrix = [[0] * 10 for _ in range(10)]
        for digit in range(10):
            matrix[digit][digit], matrix[digit][(digit + 1) % 10] = 1000 - errors[digit], errors[digit]
        atomic_write_json(experiment.statistics_path, {"epoch": best.epoch, **statistics_from_confusion(matrix)})
        experiment.summary_path.write_text("Total params: 206,922\n")
        lock = experiment.lock()  # as a training leaves it: its holder's line, the lock released
        lock.acquire()
        lock.release()
        _copy_templates(checkpoints[config.model], experiment.path)


def _checkpoint_templates(folder: Path, models) -> dict[str, Path]:
    """Per model, a folder with ``status.pkl`` and ``best.pkl`` (and their ``.prev``) as a training
    leaves them: the model's weights and Adam's state after a step, saved through the checkpoint
    module; and the run's other files, each written by its own module."""
    import torch

    from savi_tui.core.checkpoint import save_checkpoint
    from savi_tui.core.models import create_model
    from savi_tui.core.train_state import TrainState

    others = _other_files(folder / "others")

    templates = {}
    for name in models:
        model = create_model(name)
        optimizer = torch.optim.Adam(model.parameters())
        model(torch.rand(2, 1, 28, 28)).sum().backward()
        optimizer.step()
        state = TrainState(
            model_name=name,
            config={},
            model_state_dict=model.state_dict(),
            optimizer_state_dict=optimizer.state_dict(),
            rng_state={"torch": torch.get_rng_state()},
        )
        templates[name] = folder / name
        templates[name].mkdir(parents=True)
        for kind in ("status", "best"):
            for _ in range(2):  # the second save keeps the first as .prev
                save_checkpoint(templates[name] / f"{kind}.pkl", state, keep_previous=True)
        for source in others.iterdir():
            os.link(source, templates[name] / source.name)
    return templates


def _other_files(folder: Path) -> Path:
    """events.jsonl of a ten-epoch run, training.png, confusion_matrix.png and predictions.bin."""
    import torch

    from savi_tui.core import events as ev
    from savi_tui.core.plots import write_confusion_plot, write_training_plot
    from savi_tui.core.predictions import predictions_of_evaluation, write_predictions
    from savi_tui.core.run_log import LOG_NAME, RunLogWriter

    folder.mkdir(parents=True)
    history = [ev.EpochRecord(e, 0.5 / e, 0.4 / e, 0.9 + e / 200, 0.9 + e / 200, 20.0) for e in range(1, EPOCHS + 1)]
    log = RunLogWriter(folder / LOG_NAME, progress_interval=0.0)
    log.start()
    log.write(ev.RunStarted("run", "ModelConvNet", "cpu", EPOCHS, 1, 0, 118, 60000, 10000))
    for record in history:
        for batch in range(1, 119, 4):  # about one progress line a second, as the trainer keeps
            log.write(ev.BatchProgress(record.epoch, batch, 118, 0.3, 2500.0))
        log.write(ev.EpochFinished(record, True, record.epoch))
        log.write(ev.CheckpointSaved(str(folder / "status.pkl"), ev.Position.after(record.epoch, 0, 118)))
    log.write(ev.Finished(EPOCHS, EPOCHS, history[-1].test_loss))
    log.close()
    write_training_plot(folder / "training.png", history, EPOCHS, "run")
    matrix = [[990 if i == j else 1 for j in range(10)] for i in range(10)]
    write_confusion_plot(folder / "confusion_matrix.png", matrix, "run")
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (10000,), generator=generator)
    predicted = torch.where(torch.rand(10000, generator=generator) < 0.01, (labels + 1) % 10, labels)
    images = torch.randint(0, 256, (10000, 1, 28, 28), dtype=torch.uint8, generator=generator)
    predictions = predictions_of_evaluation(EPOCHS, labels, predicted, torch.rand(10000), images, {"dataset": "mnist"})
    write_predictions(folder / "predictions.bin", predictions)
    return folder


def _copy_templates(template: Path, folder: Path) -> None:
    """Copies of the files the list reads, and events.jsonl (each its own inode, as on disk); the
    others, which it never reads, as hard links to save the disk."""
    for source in template.iterdir():
        if source.name in ("status.pkl", "status.pkl.sha256", "best.pkl", "best.pkl.sha256", "events.jsonl"):
            shutil.copyfile(source, folder / source.name)
        else:
            os.link(source, folder / source.name)


async def _app_timings(root: Path) -> dict:
    from textual.widgets import Input

    from savi_tui.tui.app import SaviApp
    from savi_tui.tui.screens.compare import CompareScreen
    from savi_tui.tui.screens.experiments import ExperimentsScreen

    started = time.perf_counter()
    app = SaviApp(root, root.parent / "datasets")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, ExperimentsScreen) and app.screen.loaded):
            await pilot.pause(0.005)
        await pilot.pause()
        opened = time.perf_counter() - started
        screen = app.screen

        async def timed(action) -> float:
            began = time.perf_counter()
            await action()
            await pilot.pause()
            return time.perf_counter() - began

        async def type_filter() -> None:
            screen.query_one("#filter", Input).value = "study-01"

        async def clear_filter() -> None:
            screen.query_one("#filter", Input).value = ""

        filtered = await timed(type_filter)
        await timed(clear_filter)
        screen.table.focus()
        sorted_seconds = await timed(lambda: pilot.press("o"))

        async def relist() -> None:  # as when a training writes its progress: one file changed
            before, progress = screen.infos, root / "run-0001" / "progress.json"
            progress.write_text(progress.read_text())
            screen.reload(only_if_changed=True)
            while screen.infos is before:
                await pilot.pause(0.005)

        relisted = await timed(relist)
        for _ in range(20):  # mark the first 20 rows (groups and runs)
            await pilot.press("space")
        began = time.perf_counter()
        await pilot.press("c")
        while not (isinstance(app.screen, CompareScreen) and app.screen.comparison):
            await pilot.pause(0.005)
        await pilot.pause()
        compare_open = time.perf_counter() - began
        compare, keys = app.screen, []
        chart, tabs = compare.query_one("#compare-chart"), compare.query_one("#compare-tabs")

        async def answered(key: str, done) -> None:
            # a key event through the app's queue, as from the terminal (pilot.press would also
            # wait for every timer to go quiet); answered once its effect is drawn
            began = time.perf_counter()
            app.simulate_key(key)
            while not done():
                await asyncio.sleep(0.001)
            keys.append(time.perf_counter() - began)

        def pane_shown() -> bool:
            pane = tabs.get_pane(tabs.active)
            return bool(pane.children) and pane.children[0].region.height > 0

        for key, metric in (("1", "train_loss"), ("2", "test_loss"), ("3", "test_accuracy"), ("1", "train_loss")):
            await answered(key, lambda metric=metric: chart.drawn_metric == metric)
        compare.query_one("ContentTabs").focus()
        for _ in range(4):  # right, through the four tabs
            before = tabs.active
            await answered("right", lambda before=before: tabs.active != before and pane_shown())
    return {
        "open": opened,
        "filter": filtered,
        "sort": sorted_seconds,
        "relist": relisted,
        "compare_open": compare_open,
        "compare_key_max": max(keys),
        "compare_key_median": statistics.median(keys),
    }


def section_study(repeats: int = 5) -> dict:
    """The app's timings: the first opening of the root (never listed: its checkpoints are hashed
    in the background meanwhile) apart, the medians of the ``repeats - 1`` openings after it."""
    with tempfile.TemporaryDirectory(prefix="savi_study_") as folder:
        root = Path(folder) / "experiments"
        generate_root(root)
        os.sync()  # its gigabytes written back now, not during the timings
        first, *timings = [asyncio.run(_app_timings(root)) for _ in range(max(repeats, 2))]
        argv = [sys.executable, "-m", "savi_tui", "-ep", str(root), "list"]
        list_seconds = []
        for _ in range(repeats):
            began = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            list_seconds.append(time.perf_counter() - began)
    result = {key: statistics.median(t[key] for t in timings) for key in timings[0]}
    result["open_each"] = [t["open"] for t in timings]
    result["open_first"] = first["open"]
    result["cli_list"] = statistics.median(list_seconds)
    result["experiments"], result["repeats"] = EXPERIMENTS, len(timings)
    return result


def report_rows(study: dict) -> list[str]:
    def row(label: str, seconds: float, limit: float) -> str:
        ok = "✓" if seconds <= limit else "✗"
        return f"| {label} | | {1000 * seconds:.0f} ms | | ≤ {1000 * limit:.0f} ms {ok} |"

    n = study["experiments"]
    each = ", ".join(f"{1000 * seconds:.0f}" for seconds in study["open_each"])
    return [
        row(
            f"{n:,} experiments: the app's list, start to shown (median of {study['repeats']}: {each} ms)",
            study["open"],
            0.5,
        ),
        f"| {n:,} experiments: the first opening, while its checkpoints are hashed (no target) "
        f"| | {1000 * study['open_first']:.0f} ms | | |",
        row(f"{n:,} experiments: a filter typed, the table redrawn", study["filter"], 0.5),
        row(f"{n:,} experiments: a sort (o), the table redrawn", study["sort"], 0.5),
        row(f"{n:,} experiments: `savi-tui list`, a fresh process", study["cli_list"], 1.0),
        f"| {n:,} experiments: listed again after one changed (as while a training writes; no target) "
        f"| | {1000 * study['relist']:.0f} ms | | |",
        row(
            f"compare 20 runs: the slowest key (charts, tabs; median {1000 * study['compare_key_median']:.0f} ms)",
            study["compare_key_max"],
            0.1,
        ),
    ]


if __name__ == "__main__":  # python benchmarks/bench_study.py [REPEATS]
    os.environ.setdefault("PYTHONHASHSEED", "0")
    result = section_study(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print(json.dumps(result, indent=2))
    print("\n".join(report_rows(result)))
