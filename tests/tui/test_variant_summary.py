"""The summary of a variant experiment is the variant's, even without its summary.txt."""

from __future__ import annotations

from tui_helpers import make_app, wait_for

from savi_tui.core.config import TrainConfig
from savi_tui.core.experiments import create_experiment
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.widgets.summary_pane import SummaryPane


async def test_an_experiments_summary_without_summary_txt_is_built_from_its_options(tmp_path):
    from savi_tui.core.models import summarize_model

    options = {"blocks": 1, "channels": 4}
    create_experiment(tmp_path / "e", "v", TrainConfig(model="ModelConvNet", model_options=options))
    expected = summarize_model("ModelConvNet", options).text
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        app.show_summary("ModelConvNet", experiment="v")
        await wait_for(
            pilot, lambda: app.screen.query(SummaryPane) and app.screen.query_one(SummaryPane).text == expected
        )
