"""The result of an ONNX export: where the file is, whether the checks passed, how to view it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

NETRON_HINT = "View the graph: open the file at https://netron.app (or: pip install netron; netron FILE)"


class ExportScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,o", "close", "Close", id="export.close")]

    def __init__(self, experiment: str, result) -> None:
        super().__init__()
        self.experiment, self.result = experiment, result

    def compose(self) -> ComposeResult:
        result = self.result
        checker = "passed" if result.checker_passed else "FAILED"
        body = Text()
        body.append("File: ", style="bold")
        body.append(f"{result.path}\n")
        body.append("Weights: ", style="bold")
        body.append(f"{result.checkpoint} (epoch {result.epoch})\n")
        body.append("onnx.checker: ", style="bold")
        body.append(f"{checker}\n", style="green" if result.checker_passed else "red")
        body.append("onnxruntime vs PyTorch: ", style="bold")
        sizes = " and ".join(str(size) for size in result.batch_sizes)
        body.append(f"max |difference| {result.max_abs_diff:.2e} on batches of {sizes}\n")
        body.append(f"\n{NETRON_HINT}", style="italic")
        with Vertical(classes="dialog"):
            yield Static(f"ONNX export of {self.experiment}", classes="dialog-title", markup=False)
            yield Static(body, classes="dialog-body", id="export-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
