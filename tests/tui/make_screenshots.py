"""SVG screenshots of every screen, from real short trainings: ``make screenshots``.

Trains on MNIST from the datasets root (SAVI_DATASETS, or ~/data/savi_datasets;
on a machine without internet import the IDX files first: savi-tui data import
DIR). With ``--tiny`` it trains on a small generated dataset instead. The
experiments live in a temporary folder; only the pictures are kept.

    python tests/tui/make_screenshots.py [--out screenshots] [--tiny] [--png]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository: tests.conftest's tiny dataset generator

SIZE = (120, 40)
SMALL = (80, 24)


async def wait_for(pilot, predicate, timeout: float = 300.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"make_screenshots: timed out waiting for {what}")
        await pilot.pause(0.1)


def prepare_history(root: Path, datasets_root: Path, fraction: float) -> None:
    """Two earlier experiments: one complete, one stopped after its second epoch."""
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.events import EpochFinished
    from savi_tui.core.runs import new_run

    config = TrainConfig(model="ModelFullyConnected", epochs=4, batch_size=64, percentage=fraction)
    new_run(config, root=root, name="mnist-fc-baseline", datasets_root=datasets_root).run()

    config = TrainConfig(
        model="ModelFullyConnected",
        epochs=8,
        batch_size=128,
        learning_rate=3e-3,
        optimizer="sgd",
        percentage=fraction,
        seed=1,
    )
    trainer = new_run(config, root=root, name="mnist-fc-sgd", datasets_root=datasets_root)

    def stop_after_two(event) -> None:
        if isinstance(event, EpochFinished) and event.record.epoch == 2:
            trainer.request_stop()

    trainer.on_event = stop_after_two
    trainer.run()

    config = TrainConfig(model="ModelConvNet", epochs=2, batch_size=64, percentage=min(fraction, 0.05))
    new_run(config, root=root, name="mnist-convnet", datasets_root=datasets_root).run()


async def shoot(out: Path, root: Path, datasets_root: Path, fraction: float) -> list[Path]:
    from savi_tui.tui.app import SaviApp
    from savi_tui.tui.screens.experiments import ExperimentsScreen
    from savi_tui.tui.screens.export import ExportScreen
    from savi_tui.tui.screens.new_experiment import NewExperimentScreen
    from savi_tui.tui.screens.summary import LOADING
    from savi_tui.tui.widgets.summary_pane import SummaryPane

    taken: list[Path] = []

    def save(app, name: str) -> None:
        path = out / f"{name}.svg"
        app.save_screenshot(path.name, str(out))
        taken.append(path)
        print(f"  {path}")

    async def listed(pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded, what="list")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    empty = SaviApp(root.parent / "empty", datasets_root)
    async with empty.run_test(size=SIZE) as pilot:
        await listed(pilot)
        save(empty, "empty-guide")

    app = SaviApp(root, datasets_root)
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot)
        await pilot.press("o")  # by name: mnist-fc-baseline first
        await pilot.pause(0.3)
        save(app, "experiments")
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.5)
        save(app, "experiments-80x24")
        await pilot.resize_terminal(*SIZE)

        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NewExperimentScreen)
        await pilot.press("down")  # ModelConvNet: its summary follows the highlight
        await wait_for(pilot, lambda: screen.query_one(SummaryPane).text != LOADING, what="the torchinfo summary")
        await pilot.press("up")
        await wait_for(pilot, lambda: "ModelFullyConnected" in screen.query_one(SummaryPane).text, what="summary")
        for field, value in (("epochs", "8"), ("batch_size", "32"), ("percentage", str(min(1.0, 2.5 * fraction)))):
            screen.query_one(f"#{field}").value = value
        await pilot.pause(0.3)
        save(app, "new-experiment")

        await pilot.press("ctrl+s")
        run = app.training.active_run

        def mid_epoch(done: int):
            view = run.view
            return lambda: view.epochs_done >= done and view.batches // 2 <= view.batch < view.batches

        await pilot.resize_terminal(*SMALL)
        await wait_for(pilot, mid_epoch(2), what="the second epoch")
        await pilot.pause(0.6)
        save(app, "training-80x24")
        await pilot.resize_terminal(*SIZE)
        await wait_for(pilot, mid_epoch(4), what="the fourth epoch")
        await pilot.pause(0.6)
        save(app, "training")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not run.live, what="the save after Ctrl+C")
        await pilot.pause(0.6)
        save(app, "training-stopped")

        await pilot.press("r")  # resume from the training screen
        resumed = app.training.active_run
        await wait_for(pilot, lambda: not resumed.live, what="the resumed run to finish")
        await pilot.pause(0.6)
        save(app, "training-finished")

        await pilot.press("ctrl+p")
        await pilot.press(*"export")
        await pilot.pause(0.5)
        save(app, "command-palette")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), what="the ONNX export")
        await pilot.pause(0.3)
        save(app, "export-onnx")
        await pilot.press("escape", "escape")
        await listed(pilot)

        await pilot.press("s")
        await pilot.pause(0.5)
        save(app, "model-summary")
        await pilot.press("escape", "d")
        await pilot.pause(0.3)
        save(app, "delete-confirm")
        await pilot.press("n", "question_mark")
        await pilot.pause(0.3)
        save(app, "help")
        await pilot.press("escape")

        table = app.screen.query_one("#experiments")
        names = [info.name for info in app.screen.table.visible_infos()]
        table.move_cursor(row=names.index("mnist-fc-baseline"))
        await pilot.press("m")
        await pilot.pause(0.8)
        save(app, "metrics")
        await pilot.press("g")
        await pilot.pause(0.8)
        save(app, "gallery")
        await pilot.press("escape", "escape")
        await listed(pilot)
        for name in ("mnist-fc-baseline", "mnist-convnet"):
            table.move_cursor(row=names.index(name))
            await pilot.press("space")
        await pilot.press("c")
        await pilot.pause(2.0)
        save(app, "compare")
        await pilot.press("escape")
    taken += await shoot_followed(save, root, datasets_root, fraction)
    return taken


async def shoot_followed(save, root: Path, datasets_root: Path, fraction: float) -> list[Path]:
    """A run that `savi-tui train` in another process trains, followed live by the app."""
    from savi_tui.core.experiments import Experiment
    from savi_tui.tui.app import SaviApp
    from savi_tui.tui.screens.training import TrainingScreen

    argv = [sys.executable, "-m", "savi_tui", "train", "-n", "elsewhere", "-m", "ModelConvNet", "-ne", "20"]
    argv += ["-pe", str(fraction), "-ep", str(root), "--datasets-root", str(datasets_root)]
    trainer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    experiment = Experiment(root / "elsewhere")
    try:
        app = SaviApp(root, datasets_root)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: experiment.events_path.exists() and experiment.is_running(), what="a trainer")
            await wait_for(pilot, lambda: app.screen.loaded and any(i.name == "elsewhere" for i in app.screen.infos))
            await pilot.pause(1.0)
            names = [info.name for info in app.screen.table.visible_infos()]
            app.screen.query_one("#experiments").move_cursor(row=names.index("elsewhere"))
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, TrainingScreen)
            await wait_for(pilot, lambda: len(screen.view.history) >= 2 and screen.view.batch_losses, what="epochs")
            await pilot.pause(1.2)
            save(app, "training-followed")
    finally:
        trainer.kill()
        trainer.wait()
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--tiny", action="store_true", help="train on a small generated dataset, not MNIST")
    parser.add_argument("--fraction", type=float, default=0.1, help="fraction of MNIST to train on (default 0.1)")
    parser.add_argument("--png", action="store_true", help="also write PNGs with rsvg-convert (for looking)")
    args = parser.parse_args(argv)

    from savi_tui.core.data import default_datasets_root, load_data
    from savi_tui.core.errors import SaviError

    work = Path(tempfile.mkdtemp(prefix="savi-screenshots-"))
    try:
        datasets_root, fraction = default_datasets_root(), args.fraction
        if args.tiny:
            from savi_tui.core.data import import_idx
            from tests.conftest import write_tiny_idx

            datasets_root, fraction = work / "datasets", 1.0
            import_idx(write_tiny_idx(work / "idx", train=2048, test=512), "mnist", datasets_root)
        try:
            load_data("mnist", root=datasets_root, percentage=0.01)
        except SaviError as error:
            print(f"make_screenshots: {error}\n(or run with --tiny to use a generated dataset)", file=sys.stderr)
            return 2
        args.out.mkdir(parents=True, exist_ok=True)
        root = work / "experiments"
        print("training two earlier experiments…")
        prepare_history(root, datasets_root, fraction)
        print(f"screenshots into {args.out}/:")
        taken = asyncio.run(shoot(args.out, root, datasets_root, fraction))
        if args.png:
            converter = shutil.which("rsvg-convert")
            if converter is None:
                print("rsvg-convert not found (apt-get install librsvg2-bin): no PNGs", file=sys.stderr)
            for svg in taken if converter else []:
                subprocess.run([converter, str(svg), "-o", str(svg.with_suffix(".png"))], check=True)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
