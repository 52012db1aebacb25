"""Every screen at 80x24 and 120x40, with fixed names, times and values (no clock, no randomness).

Update after a deliberate change of the looks: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tui_helpers import FC_MODEL_SUMMARY, FC_SUMMARY, live_view, make_app, make_experiment, make_four_experiments

from savi_tui.core.models import ModelSummary
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.export import ExportScreen
from savi_tui.tui.screens.quit_training import QuitTrainingScreen
from savi_tui.tui.screens.summary import SummaryScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.training_session import ActiveRun

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def experiments(tmp_path, monkeypatch, fixed_timezone) -> Path:
    """A relative root, so the path drawn in the header is the same on every machine."""
    monkeypatch.chdir(tmp_path)
    return Path("experiments")


async def until_listed(pilot) -> None:
    app = pilot.app
    while not (isinstance(app.screen, ExperimentsScreen) and app.screen.loaded):
        await pilot.pause(0.02)
    await app.workers.wait_for_complete()
    await pilot.pause()


def experiments_app(root: Path):
    make_four_experiments(root)
    app = make_app(root)
    app.summary_cache["ModelFullyConnected"] = ModelSummary(FC_SUMMARY)  # text only, as from a summary.txt
    return app


@pytest.mark.parametrize("size", SIZES)
def test_experiments_list(snap_compare, experiments, size):
    async def highlight_the_complete_run(pilot):
        await until_listed(pilot)
        await pilot.press("down", "down")  # mnist-fc-baseline: 10 epochs, best at 8

    assert snap_compare(experiments_app(experiments), terminal_size=size, run_before=highlight_the_complete_run)


@pytest.mark.parametrize("size", SIZES)
def test_experiments_empty_root_guide(snap_compare, experiments, size):
    assert snap_compare(make_app(experiments), terminal_size=size, run_before=until_listed)


@pytest.mark.parametrize("size", SIZES)
def test_new_experiment(snap_compare, experiments, size):
    async def open_form(pilot):
        await until_listed(pilot)
        await pilot.press("n")
        await pilot.pause()

    app = make_app(experiments)
    app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    assert snap_compare(app, terminal_size=size, run_before=open_form)


@pytest.mark.parametrize("size", SIZES)
def test_new_experiment_refuses_a_bad_value_inline(snap_compare, experiments, size):
    async def type_a_bad_learning_rate(pilot):
        await until_listed(pilot)
        await pilot.press("n")
        pilot.app.screen.query_one("#learning_rate").focus()
        await pilot.press("ctrl+a", "ctrl+k", *"20")
        await pilot.pause()

    app = make_app(experiments)
    app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    assert snap_compare(app, terminal_size=size, run_before=type_a_bad_learning_rate)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("stopped", [False, True], ids=["training", "stopped"])
def test_training(snap_compare, experiments, size, stopped):
    async def show_the_run(pilot):
        await until_listed(pilot)
        view = live_view(stopped=stopped)
        if not stopped:  # the app's one training (no thread behind it here), so Ctrl+C shows in the footer
            pilot.app.training.active_run = ActiveRun(1, view)
            pilot.app.refresh_bindings()
        await pilot.app.push_screen(TrainingScreen(view))
        await pilot.pause(0.6)  # past one chart-throttle tick

    assert snap_compare(make_app(experiments), terminal_size=size, run_before=show_the_run)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["question_mark", "d"], ids=["help", "delete_confirmation"])
def test_a_key_on_the_list(snap_compare, experiments, size, key):
    async def press_it(pilot):
        await until_listed(pilot)
        await pilot.press(key)

    assert snap_compare(experiments_app(experiments), terminal_size=size, run_before=press_it)


@pytest.mark.parametrize("size", SIZES)
def test_export_result(snap_compare, experiments, size):
    from savi_tui.core.export import ExportResult

    result = ExportResult(experiments / "mnist-fc-baseline" / "model.onnx", "best.pkl", 8, 2.4e-07, (1, 7))

    async def show_the_export(pilot):
        await until_listed(pilot)
        await pilot.app.push_screen(ExportScreen("mnist-fc-baseline", result))

    assert snap_compare(experiments_app(experiments), terminal_size=size, run_before=show_the_export)


@pytest.mark.parametrize("size", SIZES)
def test_error(snap_compare, experiments, size):
    async def show_an_error(pilot):
        await until_listed(pilot)
        message = "experiment mnist-convnet has no checkpoint yet: train at least one epoch first"
        await pilot.app.push_screen(ErrorScreen("ONNX export failed", message))

    assert snap_compare(experiments_app(experiments), terminal_size=size, run_before=show_an_error)


@pytest.mark.parametrize("size", SIZES)
def test_model_summary(snap_compare, experiments, size):
    async def show_the_summary(pilot):
        await until_listed(pilot)
        await pilot.app.push_screen(SummaryScreen("ModelFullyConnected", "mnist-fc-baseline"))
        await pilot.pause()

    assert snap_compare(experiments_app(experiments), terminal_size=size, run_before=show_the_summary)


def test_an_opened_experiment_shows_its_history(snap_compare, experiments):
    async def open_it(pilot):
        await until_listed(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.6)

    assert snap_compare(experiments_app(experiments), terminal_size=(120, 40), run_before=open_it)


def test_quitting_while_training_asks_whether_to_leave_it_training_or_stop_it(snap_compare, experiments):
    async def ask_to_quit(pilot):
        await until_listed(pilot)
        await pilot.app.push_screen(QuitTrainingScreen("2026-03-14_150926_ModelConvNet"))

    make_experiment(experiments, "placeholder")
    assert snap_compare(make_app(experiments), terminal_size=(80, 24), run_before=ask_to_quit)


def _held_by_another_host(root: Path) -> Path:
    """An experiment a trainer on another host holds, with its events so far in events.jsonl."""
    from tui_helpers import LIVE_NAME, live_events, write_event_log

    path = make_experiment(root, LIVE_NAME, model="ModelConvNet", epochs_done=5, epochs_planned=10)
    write_event_log(path / "events.jsonl", live_events())
    return path


class _StoppedClock:
    """A follower's clock: the log is read at time 0, and after that 12 s have always passed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls <= 2 else 12.0


@pytest.mark.parametrize("silent", [False, True], ids=["followed", "silent"])
@pytest.mark.parametrize("size", SIZES)
def test_a_run_of_another_process_followed_live_or_gone_silent(snap_compare, experiments, size, silent):
    from savi_tui.core.experiments import Experiment, read_experiment_info
    from savi_tui.core.follow import RunFollower
    from savi_tui.core.lock import LockHolder
    from savi_tui.tui.run_state import RunView

    path = _held_by_another_host(experiments)
    lock = Experiment(path).lock()

    async def follow_it(pilot):
        await until_listed(pilot)
        clock = _StoppedClock() if silent else time.monotonic
        follower = RunFollower(Experiment(path), clock=clock)
        await pilot.app.push_screen(TrainingScreen(RunView.from_info(read_experiment_info(path)), follower))
        while pilot.app.screen.view.batch != 68 or (silent and pilot.app.screen.view.silent_for is None):
            await pilot.pause(0.05)
        await pilot.pause(0.6)  # past one chart-throttle tick

    with lock:
        lock.path.write_text(LockHolder(4242, "gpu-node-7", "x:1", "2026-03-14T12:00:00+00:00").to_json())
        assert snap_compare(make_app(experiments), terminal_size=size, run_before=follow_it)


@pytest.mark.parametrize("size", SIZES)
def test_metrics_screen_of_a_finished_experiment(snap_compare, experiments, size):
    from metrics_helpers import make_metrics_experiment
    from textual_image.widget import HalfcellImage

    from savi_tui.tui.screens.metrics import MetricsScreen

    path = make_metrics_experiment(experiments)

    async def open_metrics(pilot):
        await until_listed(pilot)
        await pilot.app.push_screen(MetricsScreen(path, image_class=HalfcellImage))
        await pilot.pause()

    assert snap_compare(make_app(experiments), terminal_size=size, run_before=open_metrics)


@pytest.mark.parametrize("size", SIZES)
def test_gallery_of_the_wrong_images_in_half_blocks(snap_compare, experiments, size):
    from metrics_helpers import make_metrics_experiment
    from textual_image.widget import HalfcellImage

    from savi_tui.tui.screens.metrics import MetricsScreen

    path = make_metrics_experiment(experiments)

    async def open_gallery(pilot):
        await until_listed(pilot)
        await pilot.app.push_screen(MetricsScreen(path, image_class=HalfcellImage))
        await pilot.press("g")
        await pilot.pause(0.3)

    assert snap_compare(make_app(experiments), terminal_size=size, run_before=open_gallery)


@pytest.mark.parametrize("size", SIZES)
def test_new_experiment_with_convnet_options(snap_compare, experiments, size):
    """ModelConvNet with 3 blocks, BatchNorm and dropout 0.5: its options, its torchinfo summary and count."""
    from savi_tui.core.models import variant_key

    options = {"blocks": 3, "batchnorm": True, "dropout": 0.5}

    async def choose_a_variant(pilot):
        await until_listed(pilot)
        await pilot.press("n", "down")  # ModelConvNet
        screen = pilot.app.screen
        screen.query_one("#opt-ModelConvNet-blocks").value = "3"
        screen.query_one("#opt-ModelConvNet-batchnorm").value = True
        screen.query_one("#opt-ModelConvNet-dropout").value = "0.5"
        key = variant_key("ModelConvNet", options)
        while key not in pilot.app.summary_cache or "(241,770 params)" not in str(
            screen.query_one("#models").get_option("ModelConvNet").prompt
        ):
            await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    app = make_app(experiments)
    app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    assert snap_compare(app, terminal_size=size, run_before=choose_a_variant)


def study_app(root: Path):
    """Two groups of three seeds and one single run, as a study leaves them."""
    from tests.study_helpers import make_group, make_run

    make_group(root, "convnet", [0.9902, 0.9915, 0.9897], epochs=5, minutes=3)
    make_group(root, "fc-relu", [0.9712, 0.9751, 0.9689], model="ModelFullyConnected", epochs=5, minutes=2)
    errors = [0, 1, 2, 1, 6, 1, 1, 3, 2, 4]
    make_run(root, "fc-sigmoid", model="ModelFullyConnected", accuracy=0.9521, epochs=5, errors_per_class=errors)
    return make_app(root)


@pytest.mark.parametrize("size", SIZES)
def test_experiments_list_with_a_group_unfolded_and_marks(snap_compare, experiments, size):
    async def unfold_and_mark(pilot):
        await until_listed(pilot)
        await pilot.press("space", "enter")  # mark the group convnet, unfold fc-relu
        await pilot.press("down", "down", "space")  # mark the member fc-relu-s1
        await pilot.press("up", "up")

    assert snap_compare(study_app(experiments), terminal_size=size, run_before=unfold_and_mark)


@pytest.mark.parametrize("tab", ["figures", "curves"])
@pytest.mark.parametrize("size", SIZES)
def test_compare_two_groups_and_a_run(snap_compare, experiments, size, tab):
    from savi_tui.tui.screens.compare import CompareScreen

    async def compare_them(pilot):
        await until_listed(pilot)
        await pilot.press("space", "space", "space", "c")
        while not (isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.comparison):
            await pilot.pause(0.02)
        if tab == "curves":
            await pilot.press("3")
        await pilot.pause()

    assert snap_compare(study_app(experiments), terminal_size=size, run_before=compare_them)


@pytest.mark.parametrize("size", SIZES)
def test_experiments_list_with_queued_runs(snap_compare, experiments, size):
    from savi_tui.core.queue import RunQueue

    make_four_experiments(experiments)
    for minutes, name in ((4, "queued-a"), (5, "queued-b")):
        make_experiment(experiments, name, model="ModelConvNet", minutes=minutes)
    RunQueue(experiments).add(["queued-a", "queued-b"])
    app = make_app(experiments)
    app.start_queue_runner = lambda experiments_root, datasets_root: None  # no background process
    assert snap_compare(app, terminal_size=size, run_before=until_listed)
