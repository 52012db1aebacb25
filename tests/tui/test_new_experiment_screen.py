"""The form: recipes bring their defaults, typed values are kept, the config carries every field."""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from tui_helpers import FC_MODEL_SUMMARY, FC_SUMMARY, make_app, wait_for

from savi_tui.core.models import ModelSummary
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
        assert (config.recipe, config.device, config.epochs, config.batch_size) == (
            "fast",
            "cpu",
            7,
            fast["batch_size"],
        )


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


# -- a model's options -------------------------------------------------------


def option(screen, model: str, name: str):
    return screen.query_one(f"#opt-{model}-{name}")


def prompt(screen, model: str) -> str:
    from textual.widgets import OptionList

    return str(screen.query_one("#models", OptionList).get_option(model).prompt)


async def test_only_the_highlighted_models_options_are_shown_and_the_config_carries_them(tmp_path):
    app = make_app(tmp_path / "e")
    app.summary_cache["ModelConvNet"] = ModelSummary("ConvNet", total_params=421_642)
    app.summary_cache["ModelConvNet blocks=3 batchnorm=True dropout=0.5"] = ModelSummary("variant")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        assert option(screen, "ModelFullyConnected", "activation").display
        assert not option(screen, "ModelConvNet", "blocks").display
        await pilot.press("down")  # ModelConvNet
        await pilot.pause()
        assert option(screen, "ModelConvNet", "blocks").display
        assert not option(screen, "ModelFullyConnected", "hidden").display
        assert not option(screen, "ModelBetterCNN", "blocks").display
        option(screen, "ModelConvNet", "blocks").value = "3"
        option(screen, "ModelConvNet", "batchnorm").value = True
        option(screen, "ModelConvNet", "dropout").value = "0.5"
        await pilot.pause()
        config = screen.read_config()
        assert (config.model, config.model_options) == (
            "ModelConvNet",
            {"blocks": 3, "batchnorm": True, "dropout": 0.5},
        )


async def test_a_bad_option_gets_the_cores_message_inline_and_starts_nothing(tmp_path):
    app = make_app(tmp_path / "e")
    app.summary_cache["ModelConvNet"] = ModelSummary("ConvNet", total_params=421_642)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        await pilot.press("down")
        option(screen, "ModelConvNet", "dropout").focus()
        await pilot.press("ctrl+a", "ctrl+k", *"1.5")
        await pilot.pause()
        # drawn on the screen, not scrolled away with the fields: at 80x24 they scroll
        drawn = " ".join(drawn_lines(screen.query_one("#form-error", Static)))
        assert "dropout must be a number from 0 to 0.9, got 1.5" in drawn
        assert screen.read_config() is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen  # nothing started


async def test_changing_an_option_updates_the_summary_pane_and_the_parameter_count(tmp_path):
    """The real thing: the app's summary worker runs torchinfo on the variant (imports torch)."""
    from savi_tui.core.models import summarize_model

    expected = summarize_model("ModelConvNet", {"blocks": 3})
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(pilot)
        await pilot.press("down")
        pane = screen.query_one("#model-summary", SummaryPane)
        await wait_for(pilot, lambda: "Total params: 421,642" in pane.text, what="the ConvNet summary")
        assert "(421,642 params)" in prompt(screen, "ModelConvNet")
        option(screen, "ModelConvNet", "blocks").focus()
        await pilot.press("ctrl+a", "ctrl+k", "3")
        await wait_for(pilot, lambda: pane.text == expected.text, what="the variant's summary")
        await pilot.pause()
        assert f"({expected.total_params:,} params)" in prompt(screen, "ModelConvNet")
        assert "MaxPool2d: 1-6" in pane.drawn
