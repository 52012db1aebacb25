"""The torchinfo summary of a model or an experiment, in a scrollable modal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from savi_tui.tui.messages import SummaryReady
from savi_tui.tui.widgets.summary_pane import SummaryPane

LOADING = "Loading the torchinfo summary… (the first one imports torch: a few seconds)"


class SummaryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,s", "close", "Close", id="summary.close")]

    def __init__(self, model: str, experiment: str | None = None) -> None:
        super().__init__()
        self.model, self.experiment = model, experiment

    def compose(self) -> ComposeResult:
        title = f"{self.model} — torchinfo summary"
        if self.experiment:
            title = f"{self.experiment} ({self.model}) — torchinfo summary"
        with Vertical(classes="dialog wide"):
            yield Static(title, classes="dialog-title", markup=False)
            yield SummaryPane(LOADING, id="summary-pane")
            yield Static("↑↓←→ PgUp PgDn scroll · Esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(SummaryPane).focus()
        self.app.request_summary(self.model, self, experiment=self.experiment)

    def on_summary_ready(self, message: SummaryReady) -> None:
        self.query_one(SummaryPane).set_summary(message.summary)

    def action_close(self) -> None:
        self.dismiss()
