"""The queue in the app: queued runs in the list, cancel (x) and reorder ([ ]), the form's Seeds
field queueing a group, and a runner started when the app opens on unfinished work."""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from tui_helpers import FC_MODEL_SUMMARY, make_app, make_experiment, wait_for

from savi_tui.core.queue import RunQueue
from savi_tui.tui.screens.confirm import ConfirmScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen


def queued_app(root, datasets=None):
    """The app, with a stand-in for starting the background runner that records each call."""
    app = make_app(root, datasets)
    app.runner_calls = []

    def start(experiments_root, datasets_root):
        app.runner_calls.append((experiments_root, datasets_root))
        return 4242

    app.start_queue_runner = start
    return app


def queued_experiments(tmp_path, names: list[str]):
    """A root with one experiment per name (the later, the newer), all of them queued in that order."""
    root = tmp_path / "e"
    for minutes, name in enumerate(names):
        make_experiment(root, name, minutes=minutes)
    RunQueue(root).add(names)
    return root


async def loaded(pilot) -> ExperimentsScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded, what="the list")
    await pilot.pause()
    return app.screen


def state_cell(screen: ExperimentsScreen, name: str) -> str:
    return str(screen.table.get_cell(name, "state"))


def order(root) -> list[tuple[str, str]]:
    return [(entry.name, entry.state) for entry in RunQueue(root).entries()]


async def highlight(pilot, screen: ExperimentsScreen, name: str) -> None:
    screen.table.move_cursor(row=screen.table.get_row_index(name))
    await pilot.pause()
    assert screen.table.selected_info().name == name


async def test_queued_runs_are_listed_as_queued_and_x_takes_one_out_of_the_queue(tmp_path):
    root = queued_experiments(tmp_path, ["first", "second"])
    app = queued_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert state_cell(screen, "first") == state_cell(screen, "second") == "queued"
        await wait_for(pilot, lambda: app.runner_calls, what="the app to start a runner if the queue needs one")
        assert app.runner_calls == [(root, app.datasets_root)]
        await highlight(pilot, screen, "first")
        await pilot.press("x")
        await wait_for(pilot, lambda: state_cell(screen, "first") == "interrupted", what="the row to change")
        assert order(root) == [("first", "cancelled"), ("second", "planned")]
        assert (root / "first" / "config.json").is_file() and state_cell(screen, "second") == "queued"


async def test_deleting_a_queued_run_says_it_leaves_the_queue_and_takes_it_out(tmp_path):
    root = queued_experiments(tmp_path, ["kept", "deleted"])
    app = queued_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await highlight(pilot, screen, "deleted")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert "It leaves the queue too." in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: not (root / "deleted").exists(), what="the folder to go")
        await wait_for(pilot, lambda: order(root) == [("kept", "planned")], what="its queue entry to go")


async def test_brackets_move_the_highlighted_queued_run_earlier_and_later(tmp_path):
    root = queued_experiments(tmp_path, ["a", "b", "c"])
    app = queued_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await highlight(pilot, screen, "c")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: [n for n, _ in order(root)] == ["a", "c", "b"], what="c to move up")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: [n for n, _ in order(root)] == ["c", "a", "b"], what="c to move first")
        await highlight(pilot, screen, "a")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: [n for n, _ in order(root)] == ["c", "b", "a"], what="a to move down")


async def test_cancelling_a_run_that_is_not_queued_says_so_and_changes_nothing(tmp_path):
    root = tmp_path / "e"
    make_experiment(root, "done", epochs_done=2, epochs_planned=2, finished=True)
    app = queued_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("x", "left_square_bracket")
        await pilot.pause(0.2)
        assert any("not queued" in str(n.message) for n in app._notifications)
        assert order(root) == []


async def open_form(pilot) -> NewExperimentScreen:
    pilot.app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    await loaded(pilot)
    await pilot.press("n")
    return pilot.app.screen


async def test_the_seeds_field_queues_a_group_of_one_experiment_per_seed(tmp_path, tiny_mnist_root):
    root = tmp_path / "e"
    app = queued_app(root, tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#name", Input).value = "study"
        form.query_one("#epochs", Input).value = "1"
        form.query_one("#seeds", Input).value = "0-2"
        form.query_one("#device", Select).value = "cpu"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen), timeout=60, what="the list again")
        names = ["study-s0", "study-s1", "study-s2"]
        assert order(root) == [(name, "planned") for name in names]
        configs = [(root / name / "config.json").read_text() for name in names]
        assert all('"group": "study"' in text for text in configs) and '"seed": 2' in configs[2]
        assert app.runner_calls[-1] == (root, tiny_mnist_root)  # once on mount, once for the group
        assert len(app.runner_calls) == 2
        assert app.training.run is None  # nothing trains in the app itself


async def test_bad_seeds_are_refused_inline_and_queue_nothing(tmp_path):
    root = tmp_path / "e"
    app = queued_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot)
        form.query_one("#seeds", Input).value = "4-0"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, NewExperimentScreen)
        assert "runs backwards" in str(form.query_one("#form-error", Static).render())
        assert order(root) == []
        assert not root.exists() or not any(root.iterdir())
