"""The result of an ONNX export: where the file is, the checks it passed, how to view it."""

from __future__ import annotations

from rich.text import Text

from savi_tui.tui.screens.dialog import OkDialog

NETRON_HINT = "View the graph: open the file at https://netron.app (or: pip install netron; netron FILE)"


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


class ExportScreen(OkDialog):
    def __init__(self, experiment: str, result) -> None:
        super().__init__(f"ONNX export of {experiment}", export_report(result), body_id="export-body")
        self.experiment, self.result = experiment, result
