"""The form: recipes bring their defaults, typed values are kept, the config carries every field."""

from __future__ import annotations

from textual.widgets import Input, Select
from tui_helpers import FC_SUMMARY, make_app, wait_for

from savi_tui.core.recipes import recipe_defaults
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen


async def open_form(pilot) -> NewExperimentScreen:
    pilot.app.summary_cache["ModelFullyConnected"] = FC_SUMMARY
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
