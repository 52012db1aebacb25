"""Marking experiments and groups with space, comparing them with c, and groups of seeds as one row
of the list that Enter, + and - unfold and fold."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable, Input, Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot
from tui_helpers import first_screen_in_a_fresh_process, make_app, wait_for

from savi_tui.tui.screens.compare import CompareScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.widgets.compare_chart import CompareChart
from tests.study_helpers import make_group, make_run


def row_keys(app) -> list[str]:
    return [key.value for key in app.screen.query_one("#experiments", DataTable).rows]


def cell_texts(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row(key)] for key in table.rows]


async def loaded(pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentsScreen) and pilot.app.screen.loaded)
    await pilot.pause()


async def move_to(pilot, key: str) -> None:
    table = pilot.app.screen.query_one("#experiments", DataTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


async def compared(pilot) -> CompareScreen:
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.comparison)
    await pilot.pause()
    return pilot.app.screen


async def test_space_marks_two_and_c_compares_their_settings_and_figures(tmp_path):
    make_run(tmp_path, "conv", model="ModelConvNet", accuracy=0.9912, minutes=2)
    make_run(tmp_path, "fc", model="ModelFullyConnected", accuracy=0.9534, learning_rate=0.01, minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert "c" not in app.screen.active_bindings  # nothing marked: c starts the filter, as before
        await move_to(pilot, "conv")
        await pilot.press("space")  # marks conv and moves down to fc
        assert app.screen.query_one("#experiments", DataTable).get_row("conv")[0].plain == "● conv"
        assert "c" not in app.screen.active_bindings
        await pilot.press("space")
        assert "c" in app.screen.active_bindings
        screen = await compared(pilot)
        assert screen.names == ["conv", "fc"]
        settings = cell_texts(screen.query_one("#compare-settings", DataTable))
        assert settings == [["model", "ModelConvNet", "ModelFullyConnected"], ["learning_rate", "0.001", "0.01"]]
        figures = {row[0]: row[1:] for row in cell_texts(screen.query_one("#compare-figures", DataTable))}
        assert figures["test accuracy"] == ["99.12%", "95.34%"]
        assert "conv" in str(screen.query_one("#compare-legend", Static).render())
        await pilot.press("3")  # the accuracy chart
        assert screen.query_one("#compare-chart").metric == "test_accuracy"
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)


async def test_space_again_unmarks(tmp_path):
    make_run(tmp_path, "a", minutes=2)
    make_run(tmp_path, "b", minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await move_to(pilot, "a")
        await pilot.press("space", "up", "space")
        assert app.screen.table.marked == set()
        assert app.screen.query_one("#experiments", DataTable).get_row("a")[0].plain == "a"


async def test_a_group_is_one_row_with_n_and_mean_and_spread_that_unfolds_and_folds(tmp_path):
    make_group(tmp_path, "conv", [0.97, 0.98, 0.99], best_loss=0.04, minutes=3)
    make_run(tmp_path, "loose", minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert row_keys(app) == ["group:conv", "loose"]
        table = app.screen.query_one("#experiments", DataTable)
        row = dict(zip([c.value for c in table.columns], map(str, table.get_row("group:conv")), strict=True))
        assert row["name"] == "▸ conv (n=3)"
        assert (row["f1"], row["loss"], row["state"]) == ("0.9800±0.0100", "0.0400±0.0000", "complete")
        await move_to(pilot, "group:conv")
        assert "acc  98.00±1.00%" in str(app.screen.query_one("#detail-metrics", Static).render())
        await pilot.press("enter")
        assert row_keys(app) == ["group:conv", "conv-s0", "conv-s1", "conv-s2", "loose"]  # under it
        await pilot.press("down", "minus")  # - on a member folds its group and goes back to its row
        assert row_keys(app) == ["group:conv", "loose"]
        assert app.screen.table.selected_key() == "group:conv"
        await pilot.press("plus")
        assert len(row_keys(app)) == 5
        await pilot.press("enter")
        assert row_keys(app) == ["group:conv", "loose"]


async def test_the_filter_keeps_a_group_whose_member_matches_and_sorting_moves_groups_whole(tmp_path):
    make_group(tmp_path, "conv", [0.97, 0.98], minutes=3)
    make_run(tmp_path, "conv-extra", group="conv", seed=9, accuracy=0.5, minutes=2)
    make_run(tmp_path, "loose", accuracy=0.985, minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await move_to(pilot, "group:conv")
        await pilot.press("plus")
        app.screen.query_one("#filter", Input).value = "extra"
        await pilot.pause()
        assert row_keys(app) == ["group:conv", "conv-extra"]
        app.screen.query_one("#filter", Input).value = ""
        await pilot.pause()
        app.screen.table.sort_by("f1")  # ascending: the group's mean (0.817) before 0.985
        await pilot.pause()
        assert row_keys(app) == ["group:conv", "conv-extra", "conv-s0", "conv-s1", "loose"]


async def test_two_groups_compare_with_mean_std_n_and_the_noise_statement(tmp_path):
    make_group(tmp_path, "conv", [0.990, 0.991, 0.989], minutes=2)
    make_group(tmp_path, "fc", [0.950, 0.953, 0.948], model="ModelFullyConnected", minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await move_to(pilot, "group:conv")
        await pilot.press("space", "space")
        screen = await compared(pilot)
        figures = {row[0]: row[1:] for row in cell_texts(screen.query_one("#compare-figures", DataTable))}
        assert figures["test accuracy"][0].endswith("(n=3)") and " ± " in figures["test accuracy"][0]
        noise = str(screen.query_one("#compare-noise", Static).render())
        assert "test accuracy, fc vs conv: Welch's t-test, p = " in noise
        assert "the difference is larger than the seeds' spread" in noise


async def test_compare_keys_answer_quickly_with_twenty_runs(tmp_path):
    import time

    for index in range(20):
        make_run(tmp_path, f"run-{index:02d}", accuracy=0.95 + index / 1000, epochs=10, minutes=index)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await move_to(pilot, app.screen.table.selected_key())
        for _ in range(20):
            await pilot.press("space")
        await compared(pilot)
        slowest = 0.0
        for key in ("1", "2", "3", "right", "left"):
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            slowest = max(slowest, time.perf_counter() - started)
        assert slowest < 2.0  # only a hang fails here: the bench (bench_study.py) measures the 100 ms target


async def test_a_mark_changes_the_cell_of_the_marked_row_and_adds_no_row_anew(tmp_path, monkeypatch):
    for index in range(3):
        make_run(tmp_path, f"run-{index}", minutes=index)
    make_run(tmp_path, "a-longer-name-keeps-the-column-as-wide", minutes=3)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table = app.screen.query_one("#experiments", DataTable)
        before = {key: table.get_row(key) for key in row_keys(app)}
        await move_to(pilot, "run-1")
        added = []
        monkeypatch.setattr(table, "add_row", lambda *cells, **kwargs: added.append(cells))
        await pilot.press("space")
        assert table.get_row("run-1")[0].plain == "● run-1"
        assert added == [] and row_keys(app) == list(before)
        assert table.get_row("run-0") == before["run-0"] and table.get_row("run-1")[1:] == before["run-1"][1:]


async def test_the_charts_are_drawn_ahead_so_that_a_chart_key_only_shows_one(tmp_path, monkeypatch):
    for index in range(3):
        make_run(tmp_path, f"run-{index}", accuracy=0.95 + index / 100, minutes=index)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await move_to(pilot, app.screen.table.selected_key())
        await pilot.press("space", "space", "space")
        screen = await compared(pilot)
        await pilot.pause(0.5)  # idle: the three charts are drawn meanwhile
        builds, build = [], Plot.build
        monkeypatch.setattr(Plot, "build", lambda plot: (builds.append(plot), build(plot))[1])
        chart = screen.query_one(CompareChart)
        for key, metric in (("1", "train_loss"), ("2", "test_loss"), ("3", "test_accuracy")):
            await pilot.press(key)
            await pilot.pause()
            assert chart.drawn_metric == metric and chart.size.area > 0
        assert builds == []  # drawn ahead at the size the Curves tab gives the chart


async def test_a_chart_drawn_ahead_is_what_textual_plotext_draws_at_that_size(tmp_path):
    from savi_tui.core.compare import compare
    from savi_tui.core.experiments import list_experiments

    make_group(tmp_path, "conv", [0.97, 0.98, 0.99], minutes=2)
    make_run(tmp_path, "fc", model="ModelFullyConnected", accuracy=0.95, minutes=1)
    comparison = compare(["conv", "fc"], list_experiments(tmp_path))

    class ChartApp(App):
        def compose(self):
            yield CompareChart()

    app = ChartApp()
    async with app.run_test(size=(70, 20)) as pilot:
        chart = app.query_one(CompareChart)
        chart.show(comparison.entries, "test_accuracy")
        await pilot.pause()
        ours, plotexts = chart.render(), PlotextPlot.render(chart)  # its own render, of the same data
        assert (ours.plain, ours.spans) == (plotexts.plain, plotexts.spans)
        assert "test accuracy per epoch" in ours.plain


def test_a_list_with_groups_comes_up_without_importing_scipy_or_torch(tmp_path):
    make_group(tmp_path / "e", "conv", [0.98, 0.99])
    shown = first_screen_in_a_fresh_process(tmp_path / "e")
    assert shown["groups"] == 1 and shown["imported"] == []


async def test_a_highlight_lands_on_the_run_or_its_folded_group_and_waits_for_one_listing_only(tmp_path):
    """As when the training screen goes back to the list: the cursor on that run, or on its group's
    row while the group is folded; a run the next listing does not have is not waited for longer."""
    from savi_tui.core.experiments import list_experiments

    make_group(tmp_path, "conv", [0.97, 0.98], minutes=3)
    make_run(tmp_path, "loose", minutes=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table = app.screen.table
        table.highlight("loose")
        assert table.selected_key() == "loose"
        table.highlight("conv-s1")
        assert table.selected_key() == "group:conv"
        table.highlight("not-yet")  # its folder is still to come...
        table.show(list_experiments(tmp_path))  # ...and the next listing does not have it
        make_run(tmp_path, "not-yet", minutes=0)
        await move_to(pilot, "loose")
        table.show(list_experiments(tmp_path))
        assert table.selected_key() == "loose"  # the cursor is the user's again
