"""What fits where: table columns, the summary pane, the loss chart's axis, the event log, printed commands."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import datetime
from types import SimpleNamespace

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, RichLog
from tui_helpers import (
    FC_MODEL_SUMMARY,
    FC_SUMMARY,
    history,
    live_view,
    make_app,
    make_experiment,
    make_four_experiments,
    wait_for,
)

from savi_tui.core.experiment_row import format_modified
from savi_tui.core.runs import extend_hint
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.widgets.experiments_table import fitting_columns
from savi_tui.tui.widgets.loss_chart import LossChart, tick_labels, y_axis
from savi_tui.tui.widgets.summary_pane import SummaryPane


async def listed(pilot) -> ExperimentsScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentsScreen) and pilot.app.screen.loaded)
    await pilot.pause()
    return pilot.app.screen


def test_modified_is_compact_time_today_date_this_year_and_year_before():
    now = datetime(2026, 11, 27, 18, 0)
    assert format_modified(datetime(2026, 11, 27, 16, 14).timestamp(), now) == "16:14"
    assert format_modified(datetime(2026, 3, 2, 9, 5).timestamp(), now) == "03-02 09:05"
    assert format_modified(datetime(2025, 12, 31, 23, 59).timestamp(), now) == "2025-12-31"


def test_columns_are_dropped_least_useful_first_and_name_and_state_stay():
    widths = {"name": 20, "state": 13, "epochs": 8, "best": 6, "loss": 11, "f1": 8, "modified": 13, "model": 16}
    widths["dataset"] = 9
    assert fitting_columns(widths, 200) == list(widths)
    assert fitting_columns(widths, 80) == ["name", "state", "epochs", "best", "loss", "f1", "modified"]
    assert fitting_columns(widths, 60) == ["name", "state", "epochs", "loss"]
    assert fitting_columns(widths, 10) == ["name", "state"]


ALL_COLUMNS = ["name", "state", "epochs", "best", "loss", "f1", "modified", "model", "dataset"]


@pytest.mark.parametrize(
    "size, shown",
    [((80, 24), ["name", "state", "epochs", "loss"]), ((120, 40), ALL_COLUMNS[:-1])],
    ids=["80x24", "120x40"],
)
async def test_a_generated_name_fits_without_scrolling_sideways(tmp_path, size, shown):
    root = tmp_path / "e"
    make_four_experiments(root)
    make_experiment(root, "2026-03-14_150926_ModelFullyConnected", epochs_done=2, epochs_planned=8, minutes=9)
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        screen = await listed(pilot)
        table = screen.query_one("#experiments", DataTable)
        assert [column.key.value for column in table.columns.values()] == shown
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar and table.max_scroll_x == 0


@asynccontextmanager
async def four_listed(tmp_path, size: tuple[int, int]):
    """The four experiments listed at ``size``: (pilot, screen, its table)."""
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=size) as pilot:
        screen = await listed(pilot)
        yield pilot, screen, screen.query_one("#experiments", DataTable)


async def test_a_wider_terminal_shows_the_columns_a_narrow_one_dropped(tmp_path):
    async with four_listed(tmp_path, (80, 24)) as (pilot, screen, table):
        assert list(table.columns) == ["name", "state", "epochs", "best", "loss", "f1", "modified"]
        assert str(table.get_row("mnist-fc-baseline")[-1]) == "12:01"  # today (the app's clock): the time
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: "model" in table.columns, what="the model column")
        assert list(table.columns) == screen.table.shown_columns == ALL_COLUMNS
        assert table.max_scroll_x == 0
        assert str(table.get_row("mnist-fc-baseline")[list(table.columns).index("model")]) == "FullyConnected"


async def test_each_column_is_as_wide_as_its_widest_cell_of_any_experiment_filtered_or_not(tmp_path):
    async with four_listed(tmp_path, (120, 40)) as (pilot, screen, table):
        widths = {key.value: column.width for key, column in table.columns.items()}
        assert widths["name"] == len("mnist-fc-baseline") and widths["state"] == len("interrupted")
        screen.query_one("#filter", Input).value = "broken"
        await pilot.pause()
        assert screen.table.selected_name() == "broken-run"
        assert {key.value: column.width for key, column in table.columns.items()} == widths


@pytest.mark.parametrize("size, whole_text", [((120, 40), True), ((80, 24), False)])
async def test_the_model_summary_pane_shows_the_whole_table_when_wide_and_its_rows_when_narrow(
    tmp_path, size, whole_text
):
    app = make_app(tmp_path / "e")
    app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    async with app.run_test(size=size) as pilot:
        await listed(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewExperimentScreen)
        pane = app.screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: pane.text == FC_SUMMARY, what="the summary")
        await pilot.pause()
        assert max(len(line) for line in FC_SUMMARY.splitlines()) == 72
        name = app.screen.query_one("#name")
        assert name.content_region.width >= len(name.value) == 37  # the generated name, whole, at both sizes
        assert (pane.drawn == FC_SUMMARY) is whole_text  # narrow: torchinfo's rows in a compact table
        assert pane.max_scroll_x == 0 and not pane.show_horizontal_scrollbar  # nothing hides to the right
        await pilot.press("ctrl+t")  # and Ctrl+T focuses it, to scroll a long one
        assert app.focused is pane


@pytest.mark.parametrize("rows", range(2, 41))
def test_y_ticks_land_the_same_number_of_rows_apart(rows):
    for low, high in [(0.11, 0.8), (2.2, 2.31), (0.0012, 0.0051), (0.3, 0.3)]:
        bottom, top, ticks = y_axis(low, high, rows)
        assert bottom <= low and top >= high and len(ticks) >= 2
        # plotext's own mapping from a value to a row of the canvas
        at = [int(0.5 + (rows - 1) * (tick - bottom) / (top - bottom) + 1e-8) for tick in ticks]
        gaps = {b - a for a, b in zip(at, at[1:], strict=False)}
        assert len(gaps) == 1 and min(gaps) >= (1 if rows <= 10 else 2)
        assert len(set(tick_labels(ticks))) == len(ticks)


class ChartApp(App):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.chart_title = title

    def compose(self):
        yield LossChart(self.chart_title)

    def on_mount(self) -> None:
        self.query_one(LossChart).show(history(5, best=4), 4, [(5.1, 0.15), (5.2, 0.14)], 10)


@pytest.mark.parametrize("title", ["", "Loss"])
@pytest.mark.parametrize("height", [9, 12, 17, 30])
async def test_the_drawn_y_labels_are_evenly_spaced_and_the_legend_is_under_the_plot(title, height):
    app = ChartApp(title)
    async with app.run_test(size=(80, height)) as pilot:
        await pilot.pause()
        lines = app.query_one(LossChart).render().plain.splitlines()
        labelled = [row for row, line in enumerate(lines) if re.match(r"^\s*\d+\.\d+┤", line)]
        assert len(labelled) >= 3
        assert len({b - a for a, b in zip(labelled, labelled[1:], strict=False)}) == 1, lines
        assert "train" in lines[-1] and "test" in lines[-1] and "best 4" in lines[-1] and "batch" in lines[-1]
        assert not any("train" in line for line in lines[:-1])  # no legend over the curves


async def test_before_the_first_epoch_the_legend_names_only_the_batch_curve():
    app = ChartApp("")
    async with app.run_test(size=(80, 12)) as pilot:
        chart = app.query_one(LossChart)
        chart.show([], None, [(0.1, 2.3), (0.2, 1.9), (0.3, 1.5)], 10)
        await pilot.pause()
        legend = chart.render().plain.splitlines()[-1]
        assert "batch" in legend and "train" not in legend and "best" not in legend


async def test_the_event_log_wraps_again_when_the_terminal_narrows(tmp_path):
    """Lines written at 120 columns must not stick out (behind a horizontal scrollbar) at 80."""
    from savi_tui.core import events as ev
    from savi_tui.tui.run_state import RunView

    view = RunView("2026-03-14_150926_ModelConvNet", model="ModelConvNet", dataset="mnist", epochs=10)
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await listed(pilot)
        await app.push_screen(TrainingScreen(view))
        await pilot.pause()
        screen = app.screen
        log = screen.query_one("#events", RichLog)
        for n in range(12):
            event = ev.Message(f"Epoch {n}: train loss 0.1234, test loss 0.2345, accuracy 95.00% - new best")
            view.apply(event)
            screen.update_from(event)
        await pilot.pause()
        assert log.max_scroll_x == 0
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert log.max_scroll_y > 0 and log.max_scroll_x == 0 and not log.show_horizontal_scrollbar
        assert "new best" in log.lines[-1].text and len(log.lines) > 12


async def test_the_run_title_names_the_model_once_and_keeps_the_device(tmp_path):
    view = live_view()
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        await app.push_screen(TrainingScreen(view))
        await pilot.pause()
        title = str(app.screen.query_one("#run-title").render())
        assert title.count("ModelConvNet") == 1 and title.rstrip().endswith("mnist  cpu")


def test_the_extend_hint_is_a_command_that_runs_as_printed(tmp_path):
    app = make_app(tmp_path / "exps")
    info = SimpleNamespace(name="mnist-fc", epochs_planned=10, config={"recipe": "default"})
    hint = extend_hint(info, app.experiments_root, app.datasets_root)
    command = f"savi-tui train --resume mnist-fc -ep {tmp_path / 'exps'} --datasets-root {app.datasets_root} -ne 15"
    assert hint.endswith(f"To train it longer: {command}")
    fast = extend_hint(SimpleNamespace(name="quick", epochs_planned=1, config={"recipe": "fast"}), app.experiments_root)
    assert "-ne" not in fast and "cannot be extended" in fast
