"""Two or more experiments or groups side by side: curves, the settings that differ, the final figures
with the noise statement for groups, and the per-class scores. Read and computed in a worker."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from savi_tui.core.collector import collect_ahead
from savi_tui.tui.messages import ComparisonReady
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.textual_fixes import DataTable, Footer
from savi_tui.tui.widgets.compare_chart import METRICS, CompareChart, legend

METRIC_KEYS = dict(zip("123", METRICS, strict=True))  # key → metric of the chart


class CompareScreen(Screen):
    TITLE = "Compare"
    BINDINGS = [
        Binding("escape,q", "close", "Back", tooltip="Back to the experiments", id="compare.close"),
        Binding("1", "metric('train_loss')", "Train loss", tooltip="Chart the train loss", id="compare.train_loss"),
        Binding("2", "metric('test_loss')", "Test loss", tooltip="Chart the test loss", id="compare.test_loss"),
        Binding("3", "metric('test_accuracy')", "Accuracy", tooltip="Chart the accuracy", id="compare.accuracy"),
    ]

    def __init__(self, names: list[str], infos: list) -> None:
        super().__init__()
        self.names, self.infos = list(names), infos
        self.comparison = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Comparing " + ", ".join(self.names) + "…", id="compare-legend", markup=False)
        with TabbedContent(id="compare-tabs"):
            with TabPane("Figures", id="compare-figures-tab"):
                with VerticalScroll(id="compare-figures-pane"):
                    yield DataTable(id="compare-figures", cursor_type="row", zebra_stripes=True)
                    yield Static(id="compare-noise", markup=False)
            with TabPane("Curves", id="compare-curves-tab"):
                yield CompareChart(id="compare-chart")
            with TabPane("Settings", id="compare-settings-tab"):
                yield DataTable(id="compare-settings", cursor_type="row", zebra_stripes=True)
            with TabPane("Per class", id="compare-per-class-tab"):
                yield DataTable(id="compare-per-class", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._compare()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _compare(self) -> None:
        from savi_tui.core.compare import compare

        comparison = compare(self.names, self.infos)
        rows = (comparison.figure_rows(), comparison.differing_settings(), comparison.per_class_rows())
        self.post_message(ComparisonReady(comparison, rows, comparison.noise_lines()))  # scipy, for groups

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        screen = ErrorScreen.for_worker(event)
        if screen is not None:
            self.app.push_screen(screen)

    def on_comparison_ready(self, message: ComparisonReady) -> None:
        self.comparison = comparison = message.comparison
        self.query_one("#compare-legend", Static).update(legend(comparison.names))
        figures, settings, per_class = message.rows
        self._fill("#compare-figures", "figure", comparison.names, figures)
        if not settings:
            settings = [["(none)", *("same" for _ in comparison.names)]]
        self._fill("#compare-settings", "setting", comparison.names, settings)
        self._fill("#compare-per-class", "class", comparison.names, per_class)
        self.query_one("#compare-noise", Static).update("\n".join(message.noise))
        self.query_one(CompareChart).show(comparison.entries)
        self.call_after_refresh(self._prepare_charts)

    def _prepare_charts(self) -> None:
        """Draw the charts ahead, one each time the screen is idle (a key waits for one at most),
        then collect the garbage of the comparison before the keys come."""
        if not self.is_attached:
            return
        # the Curves pane fills the tabs' content area, which is laid out whichever tab is shown
        size = self.query_one("#compare-tabs ContentSwitcher").size
        if size and self.query_one(CompareChart).prepare(size):
            self.call_after_refresh(self._prepare_charts)
        else:
            collect_ahead()

    def _fill(self, selector: str, first: str, names: list[str], rows: list[list[str]]) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.add_columns(first, *names)
        table.add_rows(rows)

    def action_metric(self, metric: str) -> None:
        self.query_one(TabbedContent).active = "compare-curves-tab"
        self.query_one(CompareChart).show(self.comparison.entries if self.comparison else [], metric)

    def action_close(self) -> None:
        self.app.pop_screen()
