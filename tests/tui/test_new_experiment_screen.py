"""The form: recipes bring their defaults, typed values are kept, the config carries every field."""

from __future__ import annotations

from textual.widgets import Input, Select
from tui_helpers import FC_MODEL_SUMMARY, FC_SUMMARY, make_app, wait_for

from savi_tui.core.recipes import recipe_defaults
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.widgets.summary_pane import SummaryPane


async def open_form(pilot) -> NewExperimentScreen:
    pilot.app.summary_cache["ModelFullyConnected"] = FC_MODEL_SUMMARY
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExperimentsScreen) and pilot.app.screen.loaded)
    await pilot.press("n")
    return pilot.app.screen


def value(screen, field: str) -> str:
    return screen.query_one(f"#{field}", Input).value


async def test_the_fast_recipe_brings_its_defaults_but_keeps_typed_values(tmp_path):
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        screen.query_one("#epochs", Input).value = "7"  # the user's own choice
        screen.query_one("#recipe", Select).value = "fast"
        await pilot.pause()
        fast = recipe_defaults("fast")
        assert value(screen, "batch_size") == str(fast["batch_size"])
        assert float(value(screen, "learning_rate")) == fast["learning_rate"]
        assert value(screen, "epochs") == "7"
        screen.query_one("#device", Select).value = "cpu"
        config = screen.read_config()
        assert (config.recipe, config.device, config.epochs, config.batch_size) == ("fast", "cpu", 7, 64)


def drawn_lines(widget) -> list[str]:
    """The screen's rows inside ``widget``'s region, as the compositor drew them."""
    region = widget.region
    rows = widget.screen._compositor.render_strips()[region.y : region.bottom]
    return [row.crop(region.x, region.right).text for row in rows]


async def test_at_80_columns_the_summary_shows_every_layers_output_shape_and_parameters(tmp_path):
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        pane = screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: pane.text == FC_SUMMARY, what="the summary")
        await pilot.pause()
        drawn = drawn_lines(pane)
        for layer, shape, params in [("Linear", "[1, 128]", "100,480"), ("Sigmoid", "[1, 128]", "--")]:
            assert any(layer in line for line in drawn), drawn
            assert any(shape in line for line in drawn) and any(params in line for line in drawn), drawn
        assert any("[1, 10]" in line for line in drawn) and any("1,290" in line for line in drawn), drawn
        assert any("101,770" in line for line in drawn), drawn  # the total
        assert pane.max_scroll_x == 0  # nothing hides to the right


async def test_widened_to_120_columns_the_summary_pane_shows_torchinfos_whole_text(tmp_path):
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        pane = screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: pane.text == FC_SUMMARY, what="the summary")
        assert pane.drawn != FC_SUMMARY
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: pane.drawn == FC_SUMMARY, what="the whole text")
        await pilot.pause()
        drawn = drawn_lines(pane)
        assert any("=" * 72 in line for line in drawn) and any(
            "Estimated Total Size (MB): 0.41" in line for line in drawn
        )
        assert pane.max_scroll_x == 0
