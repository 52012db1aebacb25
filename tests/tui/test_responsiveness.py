"""The app comes up fast, stays responsive under a flood of events, and loads summaries in workers."""

from __future__ import annotations

from collections import Counter

from tui_helpers import (
    FC_MODEL_SUMMARY,
    FC_SUMMARY,
    first_screen_in_a_fresh_process,
    live_training_screen,
    make_app,
    make_four_experiments,
    wait_for,
)

from savi_tui.core import events as ev
from savi_tui.core.models import ModelSummary
from savi_tui.tui.messages import TrainingEvent
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.widgets.loss_chart import LossChart
from savi_tui.tui.widgets.summary_pane import SummaryPane


def test_the_list_comes_up_without_importing_torch(tmp_path):
    make_four_experiments(tmp_path / "e")
    shown = first_screen_in_a_fresh_process(tmp_path / "e")
    assert shown["infos"] == 4 and "torch" not in shown["imported"]


async def test_a_flood_of_batch_events_redraws_the_chart_only_a_few_times(tmp_path, monkeypatch):
    draws = []
    original = LossChart.show
    monkeypatch.setattr(LossChart, "show", lambda chart, *a, **k: (draws.append(1), original(chart, *a, **k)))
    async with live_training_screen(tmp_path / "e") as (app, pilot, run):
        await pilot.pause(0.6)
        draws.clear()
        for batch in range(1, 1001):  # as if 1000 progress events arrived within a moment
            app.post_message(TrainingEvent(run.run_id, ev.BatchProgress(6, batch % 118 + 1, 118, 0.1, 20000.0)))
        await pilot.pause(1.2)
        assert len(run.view.batch_losses) > 100  # every event reached the view
        assert len(draws) <= 4  # the chart redrew at most every REDRAW_INTERVAL
        await pilot.press("question_mark")  # and keys still answer at once
        assert app.screen.__class__.__name__ == "HelpScreen"


async def test_the_summary_pane_follows_the_highlighted_model(tmp_path):
    app = make_app(tmp_path / "e")
    app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    app.summary_cache["ModelConvNet"] = ModelSummary("ModelConvNet summary")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NewExperimentScreen)
        pane = screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: pane.text == FC_SUMMARY, what="the first summary")
        name = screen.query_one("#name")
        assert name.value.endswith("_ModelFullyConnected")
        await pilot.press("down")
        await wait_for(pilot, lambda: pane.text == "ModelConvNet summary", what="the second summary")
        assert name.value.endswith("_ModelConvNet")  # the generated name follows the model until edited


async def test_an_uncached_summary_comes_from_torchinfo_in_a_worker(tmp_path):
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.press("n", "down", "down")  # ModelBetterCNN
        pane = app.screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: "BatchNorm2d" in pane.text, timeout=60, what="torchinfo")
        assert "Total params: 468,010" in pane.text


async def test_opening_and_closing_modals_leaves_no_widgets_behind(tmp_path):
    import gc

    from textual._styles_cache import StylesCache
    from textual.widgets._footer import FooterKey

    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)

        async def open_and_close_help(times: int) -> int:
            for _ in range(times):
                await pilot.press("question_mark")
                await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen))
            await pilot.pause(0.1)
            gc.collect()
            return Counter(type(o).__name__ for o in gc.get_objects() if type(o) in (FooterKey, StylesCache))

        after_two = await open_and_close_help(2)
        after_twenty = await open_and_close_help(18)
        # each opening rebuilds the footer, and the help's widgets are removed when it closes:
        # neither the replaced keys nor the removed widgets' render caches may stay alive
        assert after_twenty["FooterKey"] <= after_two["FooterKey"]
        assert after_twenty["StylesCache"] <= after_two["StylesCache"]


async def test_progress_redraws_at_most_every_redraw_interval(tmp_path, monkeypatch):
    from savi_tui.tui.screens import training

    redraws = []
    original = TrainingScreen._update_progress
    monkeypatch.setattr(TrainingScreen, "_update_progress", lambda s: (redraws.append(1), original(s)))
    async with live_training_screen(tmp_path / "e") as (app, pilot, run):
        await pilot.pause(0.6)
        redraws.clear()
        for batch in range(1, 301):
            app.post_message(TrainingEvent(run.run_id, ev.BatchProgress(6, batch % 118 + 1, 118, 0.1, 20000.0)))
        await pilot.pause(2 * training.REDRAW_INTERVAL + 0.1)
        assert 1 <= len(redraws) <= 4  # not 300: the first at once, the rest by the timer
        shown = str(app.screen.query_one("#epoch-eta").render())
        assert f"batch {run.view.batch}/{run.view.batches}" in shown  # the last event is the one shown


async def test_progress_bars_repaint_only_for_new_progress(tmp_path, monkeypatch):
    # Each repaint holds the GIL the training thread needs. Textual's bar repaints once a second
    # on a timer of its own while its ETA (not shown here) counts down, even with no new progress.
    from textual.widgets import ProgressBar

    from savi_tui.tui.screens import training

    repaints = []
    original = ProgressBar.refresh

    def refresh(bar, *args, **kwargs):
        repaints.append(bar.id)
        return original(bar, *args, **kwargs)

    monkeypatch.setattr(ProgressBar, "refresh", refresh)
    async with live_training_screen(tmp_path / "e") as (app, pilot, run):
        for batch in range(72, 102):  # ten events a second for three seconds, as the trainer sends them
            app.post_message(TrainingEvent(run.run_id, ev.BatchProgress(6, batch, 118, 0.1, 20000.0)))
            await pilot.pause(0.1)
        await pilot.pause(training.REDRAW_INTERVAL + 0.2)
        assert app.screen.query_one("#epoch-progress").percentage == run.view.epoch_fraction()  # all drawn
        repaints.clear()
        await pilot.pause(2.5)  # no new progress (a long evaluation, say)
        assert repaints == []
