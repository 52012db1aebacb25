"""ONNX export of an experiment's model, checked twice before it is kept.

The course's ``exportToOnxx``, fixed: input ``image`` (N, 1, 28, 28) float in
[0, 1] with a dynamic batch axis, output ``logits`` (N, 10). The file is checked
with ``onnx.checker`` and its outputs are compared with PyTorch's through
onnxruntime on batches of two sizes before it replaces ``model.onnx``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from savi_tui.core.atomic import atomic_write_bytes
from savi_tui.core.checkpoint import load_checkpoint, load_model_weights
from savi_tui.core.errors import ExportError, first_line
from savi_tui.core.experiments import Experiment
from savi_tui.core.models import create_model
from savi_tui.core.recipes import for_raw_images

TOLERANCE = 1e-4
NETRON_HINT = "open it in https://netron.app to see the graph"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    checkpoint: str  # "best.pkl" or "status.pkl"
    epoch: int  # 1-based epoch of the exported weights
    max_abs_diff: float  # onnxruntime vs PyTorch
    batch_sizes: tuple[int, ...]

    @property
    def message(self) -> str:
        return (
            f"exported {self.checkpoint} (epoch {self.epoch}) to {self.path}; onnx.checker passed; "
            f"onnxruntime matches PyTorch (max |diff| {self.max_abs_diff:.2e} on batches of "
            f"{' and '.join(map(str, self.batch_sizes))}); {NETRON_HINT}"
        )


def export_onnx(experiment: Experiment, checkpoint: str = "best") -> ExportResult:
    """Export the best (or latest, ``checkpoint="status"``) weights to ``model.onnx``."""
    import torch

    source = experiment.best_path if checkpoint == "best" else experiment.status_path
    if checkpoint == "best" and not source.exists():
        source = experiment.status_path
    if not source.exists():
        raise ExportError(f"experiment {experiment.name} has no checkpoint yet: train at least one epoch first")
    state = load_checkpoint(source)
    config = experiment.read_config()
    model = create_model(state.model_name, config.model_options)  # the experiment's variant
    load_model_weights(model, state.model_state_dict, source)
    # every exported model takes [0, 1] images; a recipe's normalization goes inside the graph
    model = for_raw_images(config, model).eval()
    data = _to_onnx_bytes(model, torch)
    _check(data)
    batch_sizes = (1, 7)
    difference = _max_difference(model, data, batch_sizes, torch)
    if difference > TOLERANCE:
        raise ExportError(f"onnxruntime output differs from PyTorch by {difference:.2e} (> {TOLERANCE:g}); not saved")
    atomic_write_bytes(experiment.onnx_path, data)
    epoch = state.epoch_idx + 1 if state.kind == "best" else len(state.history)
    return ExportResult(experiment.onnx_path, source.name, epoch, difference, batch_sizes)


def _to_onnx_bytes(model, torch) -> bytes:
    example = torch.zeros(2, 1, 28, 28)
    captured = io.StringIO()
    # the exporter prints progress: keep it off the terminal (a running TUI owns it)
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(
                model,
                (example,),
                input_names=["image"],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=65536)},),
                dynamo=True,
            )
        except Exception as error:
            raise ExportError(f"torch.onnx.export failed: {first_line(error)[:300]}") from None
    return program.model_proto.SerializeToString()


def _check(data: bytes) -> None:
    """``ExportError`` unless ``onnx.checker`` accepts the model."""
    import onnx

    try:
        onnx.checker.check_model(onnx.load_model_from_string(data), full_check=True)
    except Exception as error:
        raise ExportError(f"onnx.checker rejected the model: {first_line(error)[:300]}") from None


def _max_difference(model, data: bytes, batch_sizes, torch) -> float:
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(0)
    worst = 0.0
    for size in batch_sizes:
        images = torch.rand(size, 1, 28, 28, generator=generator)
        with torch.inference_mode():
            expected = model(images).numpy()
        (actual,) = session.run(["logits"], {"image": images.numpy()})
        if actual.shape != expected.shape:
            raise ExportError(f"onnxruntime gave shape {actual.shape}, PyTorch {expected.shape}")
        worst = max(worst, float(abs(actual - expected).max()))
    return worst
