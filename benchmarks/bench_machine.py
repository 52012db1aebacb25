"""The ``machine`` section of ``bench.py``: ModelConvNet's training against this machine's own limit,
and where an epoch's time goes.

- the limit: a 4096x4096 float32 matrix product through torch, on the threads the trainer uses
  (median of a few), in GFLOP/s, by the faster of MKL's sgemm and oneDNN's;
- ModelConvNet's training FLOPs per image, counted from the model by torch's FlopCounterMode
  (forward and backward of a batch of 512), not typed in;
- the trainer's images/s (default recipe, IEEE float32, batch 512, epoch 2 of a real run, training
  only) times those FLOPs: the fraction of the limit;
- a profile of one epoch, step by step as the trainer does it: per phase (data, forward, backward,
  optimizer, evaluation, checkpoint) and per layer (forward and backward, by module hooks: a
  layer's backward is timed from its output's gradient to its input's, so it is approximate;
  the first block, where it runs as one compiled kernel, is timed up to conv2 and from it).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

MATMUL_SIZE = 4096
BATCH = 512
FUSED_BLOCK = "conv1+pool1+relu (one kernel)"


def matmul_gflops(repeats: int = 5) -> tuple[float, str]:
    """The faster of torch's two float32 matrix products, in GFLOP/s, and its name: MKL's sgemm
    (``torch.mm``) takes its AVX2 path on AMD processors, where oneDNN's (the kernel of the
    trainer's Linear layers and of every convolution) runs AVX-512 at about twice the rate."""
    import torch

    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    from savi_tui.core import onednn_linear

    b_rows = b.t().contiguous()  # oneDNN's linear takes the weight as rows: a @ b_rows.T == a @ b
    kernels = {
        "MKL sgemm": lambda: torch.mm(a, b),
        "oneDNN": lambda: onednn_linear._onednn_linear(a, b_rows, None),  # the trainer's Linear kernel
    }
    rates = {}
    for name, product in kernels.items():
        product()  # warm-up
        timed = []
        for _ in range(repeats):
            started = time.perf_counter()
            product()
            timed.append(2 * MATMUL_SIZE**3 / (time.perf_counter() - started) / 1e9)
        rates[name] = statistics.median(timed)
    best = max(rates, key=rates.get)
    return rates[best], best


def training_flops_per_image(model_name: str = "ModelConvNet") -> float:
    """FLOPs of one training step (forward + backward), per image, as torch counts them."""
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from savi_tui.core.models import create_model

    model = create_model(model_name)
    images, labels = torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(images), labels).backward()
    return counter.get_total_flops() / BATCH


def _network(datasets: Path):
    import torch

    from savi_tui.core.config import TrainConfig
    from savi_tui.core.cpu_kernels import route_to_cpu_kernels
    from savi_tui.core.data import load_data
    from savi_tui.core.device import resolve_device
    from savi_tui.core.models import create_model
    from savi_tui.core.recipes import build_optimizer

    cfg = TrainConfig(model="ModelConvNet", batch_size=BATCH, device="cpu")
    resolve_device("cpu")
    torch.manual_seed(0)
    model = create_model(cfg.model).to(memory_format=torch.channels_last)
    route_to_cpu_kernels(model)
    return cfg, model, build_optimizer(cfg, model), load_data("mnist", root=datasets)


def profile_epoch(datasets: Path) -> dict:
    """One epoch of ModelConvNet as the trainer runs it, each phase and each layer timed."""
    import warnings

    import torch
    import torch.nn.functional as F

    from savi_tui.core.checkpoint import save_checkpoint
    from savi_tui.core.data import batch_slices, epoch_order
    from savi_tui.core.fast_maxpool import FastMaxPool2d
    from savi_tui.core.train_state import TrainState

    warnings.filterwarnings("ignore", message="Full backward hook is firing")  # conv1's input needs no gradient
    cfg, model, optimizer, data = _network(datasets)
    phases: dict[str, float] = defaultdict(float)
    layers: dict[str, float] = defaultdict(float)
    started: dict[str, float] = {}
    for name, module in model.named_children():
        if isinstance(module, FastMaxPool2d):  # ModelConvNet has it apply its ReLU in the same pass
            name = f"{name}+relu (one kernel)"
        module.register_forward_pre_hook(lambda m, i, name=name: started.__setitem__(name, time.perf_counter()))
        module.register_forward_hook(
            lambda m, i, o, name=name: layers.__setitem__(
                f"{name} forward", layers[f"{name} forward"] + time.perf_counter() - started[name]
            )
        )
        module.register_full_backward_pre_hook(lambda m, g, name=name: started.__setitem__(name, time.perf_counter()))
        module.register_full_backward_hook(
            lambda m, gi, go, name=name: layers.__setitem__(
                f"{name} backward", layers[f"{name} backward"] + time.perf_counter() - started[name]
            )
        )
    fused = FUSED_BLOCK if model.fuse_first_block else None
    if fused:  # conv1 and pool1 run as one kernel, outside any module: timed up to conv2 and from it
        model.register_forward_pre_hook(lambda m, i: started.__setitem__("model", time.perf_counter()))
        model.conv2.register_forward_pre_hook(
            lambda m, i: layers.__setitem__(
                f"{fused} forward", layers[f"{fused} forward"] + time.perf_counter() - started["model"]
            )
        )
        model.conv2.register_full_backward_hook(
            lambda m, gi, go: started.__setitem__("conv2 done", time.perf_counter())
        )
    images, labels = data.train.images, data.train.labels
    order = epoch_order(len(data.train), cfg.seed, 0)
    epoch_started = time.perf_counter()
    for begin, end in batch_slices(len(data.train), BATCH):
        t0 = time.perf_counter()
        index = order[begin:end]
        x = images.index_select(0, index).float().div_(255.0).contiguous(memory_format=torch.channels_last)
        y = labels.index_select(0, index)
        t1 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        t2 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        if fused:
            layers[f"{fused} backward"] += t3 - started["conv2 done"]
        optimizer.step()
        t4 = time.perf_counter()
        for phase, seconds in (("data", t1 - t0), ("forward", t2 - t1), ("backward", t3 - t2), ("optimizer", t4 - t3)):
            phases[phase] += seconds
    phases["training (all of the above)"] = time.perf_counter() - epoch_started
    model.eval()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for begin, end in batch_slices(len(data.test), 1024):
            x = data.test.images[begin:end].float().div_(255.0).contiguous(memory_format=torch.channels_last)
            model(x).argmax(1)
    phases["evaluation"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        state = TrainState(
            model_name=cfg.model,
            config=cfg.to_dict(),
            model_state_dict={k: v.detach().clone() for k, v in model.state_dict().items()},
            optimizer_state_dict=optimizer.state_dict(),
            rng_state={"torch": torch.get_rng_state()},
        )
        for name in ("best.pkl", "status.pkl"):  # a new best writes both
            save_checkpoint(Path(folder) / name, state, keep_previous=True)
        phases["checkpoint (best + status)"] = time.perf_counter() - t0
    return {"phases": dict(phases), "layers": dict(layers)}


def section_machine(datasets: Path, trainer_rate) -> dict:
    """``trainer_rate(cfg)`` is bench.py's images/s of the real trainer (training only)."""
    from savi_tui.core.config import TrainConfig
    from savi_tui.core.device import resolve_device

    resolve_device("cpu")
    import torch

    limit, kernel = matmul_gflops()
    flops = training_flops_per_image()
    rate = trainer_rate(TrainConfig(model="ModelConvNet", batch_size=BATCH, learning_rate=1e-3, device="cpu"))
    return {
        "threads": torch.get_num_threads(),
        "matmul_gflops": limit,
        "matmul_kernel": kernel,
        "mflop_per_image": flops / 1e6,
        "images_per_second": rate,
        "training_gflops": rate * flops / 1e9,
        "fraction": rate * flops / 1e9 / limit,
        "profile": profile_epoch(datasets),
    }


def report_rows(machine: dict) -> list[str]:
    ok = "✓" if machine["fraction"] >= 0.75 else "✗"
    rows = [
        f"| ModelConvNet training against the machine: {machine['images_per_second']:,.0f} img/s × "
        f"{machine['mflop_per_image']:.1f} MFLOP = {machine['training_gflops']:.0f} GFLOP/s, of a "
        f"{MATMUL_SIZE}² float32 matmul's {machine['matmul_gflops']:.0f} GFLOP/s "
        f"({machine.get('matmul_kernel', 'MKL sgemm')}, the faster of MKL and oneDNN) "
        f"on {machine['threads']} threads | | "
        f"**{100 * machine['fraction']:.0f} %** | | ≥ 75 % {ok} |",
        "",
        "Profile of one ModelConvNet epoch (default recipe, batch 512, this machine), seconds:",
        "",
        "| phase | seconds | | layer | seconds |",
        "|---|---|---|---|---|",
    ]
    phases = list(machine["profile"]["phases"].items())
    layers = sorted(machine["profile"]["layers"].items(), key=lambda item: -item[1])
    for index in range(max(len(phases), len(layers))):
        phase = f"{phases[index][0]} | {phases[index][1]:.2f}" if index < len(phases) else " | "
        layer = f"{layers[index][0]} | {layers[index][1]:.2f}" if index < len(layers) else " | "
        rows.append(f"| {phase} | | {layer} |")
    return rows
