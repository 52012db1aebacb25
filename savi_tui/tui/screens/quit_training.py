"""Quitting while this app trains: leave the run training in the background, stop and save it, or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

LEAVE, STOP = "leave", "stop"


class QuitTrainingScreen(ModalScreen[str | None]):
    """Answers ``LEAVE``, ``STOP`` or None (stay); staying is the default."""

    BINDINGS = [
        Binding("l", "answer('leave')", "Leave it training", id="quit.leave"),
        Binding("s", "answer('stop')", "Stop & save", id="quit.stop"),
        Binding("n,escape", "answer(None)", "Cancel", id="quit.cancel"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.run_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Quit while training", classes="dialog-title")
            yield Static(
                f"{self.run_name} is training.\n\n"
                "Leave it training: it saves, goes on in the background, and savi-tui follows it when you "
                "come back. Stop & save: it stops after this batch; r resumes it later.",
                classes="dialog-body",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Leave it training (l)", id=LEAVE, variant="success", compact=True)
                yield Button("Stop & save (s)", id=STOP, variant="warning", compact=True)
                yield Button("Cancel (n)", id="cancel", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id if event.button.id in (LEAVE, STOP) else None)

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
