"""The shape shared by the modals that only inform: a title, a body, and OK."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class OkDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,o", "close", "Close", id="dialog.close")]
    DIALOG_CLASSES = "dialog"

    def __init__(self, title: str, body: RenderableType, body_id: str) -> None:
        super().__init__()
        self.title_text, self.body, self.body_id = title, body, body_id

    def compose(self) -> ComposeResult:
        with Vertical(classes=self.DIALOG_CLASSES):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.body, classes="dialog-body", id=self.body_id, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield from self.more_buttons()

    def more_buttons(self):
        """Buttons beside OK, for a dialog that offers more."""
        return ()

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
