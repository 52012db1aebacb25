"""The result of an ONNX export: where the file is, the checks it passed, how to view it."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Button, Static

from savi_tui.netron_server import NetronServer
from savi_tui.tui.screens.dialog import OkDialog

NETRON_HINT = "View the graph: n serves it with netron here, or open the file at https://netron.app"


def export_report(result) -> Text:
    """The lines of the modal, from a core ``ExportResult``."""
    body = Text()
    body.append("File: ", style="bold")
    body.append(f"{result.path}\n")
    body.append("Weights: ", style="bold")
    body.append(f"{result.checkpoint} (epoch {result.epoch})\n")
    body.append("onnx.checker: ", style="bold")
    body.append("passed\n", style="green")  # a model the checker refuses is never exported
    body.append("onnxruntime vs PyTorch: ", style="bold")
    sizes = " and ".join(str(size) for size in result.batch_sizes)
    body.append(f"max |difference| {result.max_abs_diff:.2e} on batches of {sizes}\n")
    body.append(f"\n{NETRON_HINT}", style="italic")
    return body


def netron_lines(server: NetronServer) -> Text:
    """Where netron serves the model, and the tunnel that brings it to one's own browser."""
    lines = Text()
    lines.append("\nnetron serves the model at ", style="bold")
    lines.append(f"{server.url}\n")
    lines.append(f"On a remote machine, run on your own computer:\n  {server.ssh_hint()}\n")
    lines.append(f"then open {server.url} there. It stops when this window closes.")
    return lines


class ExportScreen(OkDialog):
    BINDINGS = [Binding("n", "netron", "View in netron", tooltip="Serve model.onnx with netron", id="export.netron")]

    def __init__(self, experiment: str, result, *, netron_port: int | None = None) -> None:
        super().__init__(f"ONNX export of {experiment}", export_report(result), body_id="export-body")
        self.experiment, self.result = experiment, result
        self.netron = NetronServer(result.path, netron_port)

    def more_buttons(self):
        yield Button("n: view in netron", id="netron", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "netron":
            event.stop()
            event.prevent_default()  # Textual would call OkDialog's handler too, and that one closes
            self.action_netron()

    def action_netron(self) -> None:
        if not self.netron.is_serving():
            try:
                self.netron.start()
            except (OSError, ValueError) as error:  # the port is taken, the file went away
                self.notify(f"netron could not start: {error}", severity="error")
                return
        self.query_one(f"#{self.body_id}", Static).update(export_report(self.result) + netron_lines(self.netron))

    def on_unmount(self) -> None:
        self.netron.stop()
