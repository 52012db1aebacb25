"""An error, shown as a modal with its one-line message instead of a traceback."""

from __future__ import annotations

from savi_tui.tui.screens.dialog import OkDialog


class ErrorScreen(OkDialog):
    DIALOG_CLASSES = "dialog error"

    def __init__(self, title: str, message: str) -> None:
        super().__init__(title, message, body_id="error-message")
        self.message = message
