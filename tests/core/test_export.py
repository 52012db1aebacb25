"""ONNX export: checked by onnx.checker and onnxruntime, batch axis dynamic."""

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ExportError
from savi_tui.core.experiments import create_experiment, open_experiment
from savi_tui.core.export import export_onnx
from savi_tui.core.models import create_model
from savi_tui.core.runs import new_run


@pytest.mark.parametrize("model", ["ModelFullyConnected", "ModelConvNet"])
def test_export_writes_a_checked_model_that_matches_pytorch(tmp_path, tiny_mnist_root, model, capfd):
    new_run(
        TrainConfig(model=model, epochs=1, batch_size=64), root=tmp_path, name="x", datasets_root=tiny_mnist_root
    ).run()
    result = export_onnx(open_experiment(tmp_path, "x"))
    assert capfd.readouterr().out == ""  # the exporter's chatter never reaches the terminal
    assert result.path == tmp_path / "x" / "model.onnx" and result.checkpoint == "best.pkl"
    assert result.max_abs_diff <= 1e-4 and "netron.app" in result.message
    onnx.checker.check_model(onnx.load(result.path))

    reference = create_model(model).eval()
    reference.load_state_dict(load_checkpoint(tmp_path / "x" / "best.pkl").model_state_dict)
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    for batch in (1, 33):  # the batch axis is dynamic
        images = torch.rand(batch, 1, 28, 28)
        (logits,) = session.run(None, {"image": images.numpy()})
        with torch.inference_mode():
            np.testing.assert_allclose(logits, reference(images).numpy(), atol=1e-4)


def test_export_before_any_epoch_says_so(tmp_path):
    create_experiment(tmp_path, "empty", TrainConfig())
    with pytest.raises(ExportError, match="train at least one epoch"):
        export_onnx(open_experiment(tmp_path, "empty"))
    assert not (tmp_path / "empty" / "model.onnx").exists()


def test_a_fast_recipe_model_is_exported_with_its_normalization_inside(tmp_path, tiny_mnist_root):
    from savi_tui.core.recipes import MNIST_MEAN, MNIST_STD

    cfg = TrainConfig(model="ModelConvNet", recipe="fast", epochs=1, batch_size=64, learning_rate=3e-3)
    new_run(cfg, root=tmp_path, name="fast", datasets_root=tiny_mnist_root).run()
    result = export_onnx(open_experiment(tmp_path, "fast"))
    network = create_model("ModelConvNet").eval()
    network.load_state_dict(load_checkpoint(tmp_path / "fast" / "best.pkl").model_state_dict)
    images = torch.rand(5, 1, 28, 28)  # what ToTensor() gives: [0, 1]
    session = onnxruntime.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"image": images.numpy()})
    with torch.inference_mode():
        expected = network((images - MNIST_MEAN) / MNIST_STD).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-4)
