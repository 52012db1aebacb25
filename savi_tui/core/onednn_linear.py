"""float32 Linear layers computed by oneDNN instead of the BLAS, on x86 CPUs.

PyTorch computes a float32 ``nn.Linear`` on the CPU with MKL's sgemm, which takes its AVX2
code path on AMD processors; oneDNN, which PyTorch also ships and uses for every convolution,
takes the AVX-512 path on any x86 CPU that has it. The arithmetic stays IEEE float32; only the
order of the sums differs, as between any two BLAS libraries.

``route_linear_layers(model)`` switches a model's Linear layers to this kernel when it is
available and MKL would take its slower path (any x86 CPU but Intel's; on a Xeon with AVX-512,
MKL trained ModelFullyConnected 1.2x as fast as oneDNN); the parameters, the state dict and
the checkpoints do not change, and an exported model is an ordinary Linear. The choice depends
only on the machine, never on a timing, so an interrupted run and its resume compute with the
same kernels.
"""

from __future__ import annotations

import functools
import platform

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from savi_tui.core.device import cpu_info


def _onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ weight.T + bias, by oneDNN (``weight`` may be a transposed view)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class _OneDNNLinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _onednn_linear(x, weight, bias)

    @staticmethod
    @once_differentiable  # the backward's own products have no gradient: refuse a double backward
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _onednn_linear(grad, weight.t(), None)  # grad @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = _onednn_linear(grad.t(), x.t(), None)  # grad.T @ x
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        return grad_x, grad_weight, grad_bias


class OneDNNLinear(nn.Linear):
    """An ``nn.Linear`` whose float32 CPU product runs on oneDNN; anything else (bf16
    autocast, CUDA, inputs that are not a batch of vectors, an empty batch) goes the usual
    way. First-order gradients only, which is all training needs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.dim() == 2
            and x.shape[0] > 0  # oneDNN has no primitive for an empty batch
            and x.device.type == "cpu"
            and x.dtype == self.weight.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
        ):
            return _OneDNNLinearFunction.apply(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


@functools.cache
def onednn_linear_available() -> bool:
    """True on an x86 CPU where PyTorch's oneDNN linear exists and agrees with F.linear."""
    if platform.machine().lower() not in ("x86_64", "amd64") or not torch.backends.mkldnn.is_available():
        return False
    try:
        generator = torch.Generator().manual_seed(0)
        x, weight, bias = (torch.randn(*shape, generator=generator) for shape in ((8, 16), (4, 16), (4,)))
        return torch.allclose(_onednn_linear(x, weight, bias), F.linear(x, weight, bias), rtol=1e-5, atol=1e-5)
    except (AttributeError, RuntimeError):
        return False


def mkl_takes_its_best_path() -> bool:
    """An Intel CPU, on which MKL runs the widest vector code the CPU has (elsewhere it takes AVX2)."""
    return cpu_info("vendor_id") == "GenuineIntel"


def route_linear_layers(model: nn.Module) -> int:
    """Let the model's float32 Linear layers run on oneDNN where it is available and faster than
    MKL (in place); returns how many layers were switched."""
    if not onednn_linear_available() or mkl_takes_its_best_path():
        return 0
    layers = [module for module in model.modules() if type(module) is nn.Linear]
    for layer in layers:
        layer.__class__ = OneDNNLinear
    return len(layers)
