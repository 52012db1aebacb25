"""The torchinfo summary of a model, scrollable both ways."""

from __future__ import annotations

from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Static


class SummaryPane(ScrollableContainer, can_focus=True):
    DEFAULT_CSS = """
    SummaryPane > Static { width: auto; }
    """

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = text

    def compose(self):
        yield Static(Text(self._text, no_wrap=True), id="summary-text")

    def set_text(self, text: str) -> None:
        self._text = text
        if self.is_mounted:
            self.query_one("#summary-text", Static).update(Text(text, no_wrap=True))
            self.scroll_home(animate=False)

    @property
    def text(self) -> str:
        return self._text
