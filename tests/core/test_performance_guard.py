"""Guards for the speed work, by structure and never by the clock (benchmarks/ shows speed).

- the trainer feeds the model whole batches gathered in one indexing operation,
  never one example at a time, and never through a DataLoader;
- ``savi-tui --help`` and importing the app do not import torch;
- float32 Linear layers run on oneDNN where it is available (x86);
- the fast recipe's extra steps (normalization, label smoothing, bf16 autocast)
  still resume bit for bit, and the default recipe keeps the course's arithmetic.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from savi_tui.core import events as ev
from savi_tui.core import recipes
from savi_tui.core import trainer as trainer_module
from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.config import TrainConfig
from savi_tui.core.runs import resume_run
from tests.conftest import start_run


class CountingImages(torch.Tensor):
    """The training images; counts every indexing of them (``images[...]`` and friends)."""

    reads = 0

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.Tensor.__getitem__, torch.index_select, torch.Tensor.index_select, torch.take):
            CountingImages.reads += 1
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))


def _train(tmp_path, datasets, cfg, *, wrap_images=False, stop_when=None, name="run"):
    trainer, seen = start_run(tmp_path, datasets, cfg, name=name, stop_when=stop_when)
    if wrap_images:
        trainer.data.train.images = trainer.data.train.images.as_subclass(CountingImages)
    return trainer, trainer.run(), seen


def test_the_model_sees_whole_batches_gathered_in_one_read(tmp_path, tiny_mnist_root, monkeypatch):
    def no_dataloader(*args, **kwargs):
        raise AssertionError("the trainer must not go through a DataLoader (one example at a time)")

    monkeypatch.setattr(torch.utils.data.DataLoader, "__iter__", no_dataloader)
    shapes = []

    def record_batch_shapes(trainer):
        trainer.model.register_forward_pre_hook(lambda module, inputs: shapes.append(tuple(inputs[0].shape)))

    monkeypatch.setattr(trainer_module.Trainer, "after_setup", record_batch_shapes)
    CountingImages.reads = 0
    cfg = TrainConfig(model="ModelConvNet", batch_size=64, epochs=1, seed=1, device="cpu")
    trainer, outcome, _ = _train(tmp_path, tiny_mnist_root, cfg, wrap_images=True)
    assert outcome == "finished"
    size, batches = len(trainer.data.train), -(-len(trainer.data.train) // 64)
    train_shapes = shapes[:batches]
    assert [s[0] for s in train_shapes] == [64] * (size // 64) + ([size % 64] if size % 64 else [])
    assert all(s[1:] == (1, 28, 28) for s in shapes)
    # reading the images example by example would count ``size`` reads, not one per batch
    assert batches <= CountingImages.reads <= 2 * batches, f"{CountingImages.reads} reads for {batches} batches"
    # evaluation: large batches under inference mode, not the training batch size
    assert all(s[0] == len(trainer.data.test) for s in shapes[batches:])


def _imports_torch(code: str) -> bool:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


def test_help_does_not_import_torch():
    code = (
        "import sys\nfrom savi_tui import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    assert not _imports_torch(code), "savi-tui --help imported torch: import it only where training needs it"


def test_importing_the_app_does_not_import_torch():
    pytest.importorskip("savi_tui.tui.app")
    assert not _imports_torch("import sys\nimport savi_tui.tui.app\nprint('torch' in sys.modules)")


def test_default_recipe_keeps_the_course_arithmetic():
    cfg = TrainConfig(model="ModelConvNet")
    assert recipes.input_normalization(cfg) is None
    assert recipes.label_smoothing(cfg) == 0.0
    assert recipes.autocast_dtype(cfg, torch.device("cpu")) is None


@pytest.mark.parametrize("cap", ["AVX2", "avx512_core"])
def test_a_onednn_isa_cap_below_bf16_makes_the_fast_recipe_train_in_float32(monkeypatch, cap):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    recipes._cpu_has_native_bf16.cache_clear()
    try:
        assert recipes.autocast_dtype(TrainConfig(model="ModelConvNet", recipe="fast"), torch.device("cpu")) is None
    finally:
        recipes._cpu_has_native_bf16.cache_clear()


@pytest.mark.parametrize("bf16", [False, True], ids=["float32", "bf16"])
def test_fast_recipe_stops_mid_epoch_and_resumes_bit_for_bit(tmp_path, tiny_mnist_root, monkeypatch, bf16):
    if bf16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        pytest.skip("this CPU cannot run bf16 at all")
    monkeypatch.setattr(recipes, "_cpu_has_native_bf16", lambda: bf16)  # both paths, on any CPU
    monkeypatch.setattr(trainer_module, "PROGRESS_INTERVAL", 0.0)
    cfg = lambda: TrainConfig(model="ModelConvNet", batch_size=32, epochs=2, seed=3, recipe="fast", device="cpu")  # noqa: E731
    _train(tmp_path, tiny_mnist_root, cfg(), name="straight")
    stop = lambda e: isinstance(e, ev.BatchProgress) and (e.epoch, e.batch) == (1, 5)  # noqa: E731
    _, outcome, _ = _train(tmp_path, tiny_mnist_root, cfg(), name="split", stop_when=stop)
    assert outcome == "stopped"
    resumed = resume_run("split", root=tmp_path, datasets_root=tiny_mnist_root)
    assert resumed.run() == "finished"
    a, b = (load_checkpoint(tmp_path / name / "status.pkl") for name in ("straight", "split"))
    for key, value in a.model_state_dict.items():
        assert torch.equal(value, b.model_state_dict[key]), key
    for index, state in a.optimizer_state_dict["state"].items():
        for key, value in state.items():
            assert torch.equal(value, b.optimizer_state_dict["state"][index][key]), (index, key)
    assert a.scheduler_state_dict == b.scheduler_state_dict
    assert a.test_losses == b.test_losses


def test_an_exported_fast_model_takes_the_course_inputs():
    from savi_tui.core.networks import ModelConvNet

    model = ModelConvNet().eval()
    images = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    default, fast = TrainConfig(model="ModelConvNet"), TrainConfig(model="ModelConvNet", recipe="fast")
    assert recipes.for_raw_images(default, model) is model
    wrapped = recipes.for_raw_images(fast, model)
    assert not wrapped.training
    mean, std = recipes.input_normalization(fast)
    with torch.inference_mode():
        expected = model((images.float() / 255 - mean) / std)  # what the trainer feeds the model
        assert torch.allclose(wrapped(images.float() / 255), expected, atol=1e-5)


def test_the_trainer_runs_float32_linear_layers_on_onednn_where_it_is_faster(tmp_path, tiny_mnist_root):
    from savi_tui.core.onednn_linear import OneDNNLinear, mkl_takes_its_best_path, onednn_linear_available

    cfg = TrainConfig(model="ModelFullyConnected", batch_size=64, epochs=1, seed=1, device="cpu")
    trainer, outcome, _ = _train(tmp_path, tiny_mnist_root, cfg)
    assert outcome == "finished"
    linears = [m for m in trainer.model.modules() if isinstance(m, torch.nn.Linear)]
    expected = OneDNNLinear if onednn_linear_available() and not mkl_takes_its_best_path() else torch.nn.Linear
    assert [type(m) for m in linears] == [expected, expected]
