"""An error, shown as a modal with its one-line message instead of a traceback."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from savi_tui.core.errors import describe_error
from savi_tui.tui.screens.dialog import OkDialog

# a worker's group → the title of the modal its error shows in
ERROR_TITLES = {
    "training": "Training failed",
    "export": "ONNX export failed",
    "summary": "Model summary failed",
    "experiments": "Could not list the experiments",
    "delete": "Delete failed",
}


class ErrorScreen(OkDialog):
    DIALOG_CLASSES = "dialog error"

    def __init__(self, title: str, message: str) -> None:
        super().__init__(title, message, body_id="error-message")
        self.message = message

    @classmethod
    def for_worker(cls, event: Worker.StateChanged) -> ErrorScreen | None:
        """The modal for a worker that raised, titled by its group; None while it has not."""
        if event.state != WorkerState.ERROR:
            return None
        title = ERROR_TITLES.get(event.worker.group, "Something went wrong")
        return cls(title, describe_error(event.worker.error))
