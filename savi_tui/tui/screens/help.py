"""The keys of the screen underneath, generated from its bindings so it never goes stale."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

NOTES = (
    "Ctrl+C while training: stop after the current batch and save; press it again within "
    "3 s to quit at once (the files on disk stay the last complete ones). With no training, "
    "Ctrl+C quits. q or Ctrl+Q while training asks, then saves before quitting. Ctrl+P opens "
    "the command palette: every action is there too."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, screen_title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.screen_title, self.keys = screen_title, keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(f"Keys — {self.screen_title}", classes="dialog-title", markup=False)
            yield DataTable(id="help-keys", cursor_type="none", zebra_stripes=True, show_header=False)
            yield Static(NOTES, classes="dialog-body")
            yield Static("Esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        for key, description in self.keys:
            table.add_row(key, description)
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
