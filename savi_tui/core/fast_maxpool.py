"""2x2 max pooling with stride 2 on the CPU by a compiled kernel (``maxpool2x2.c``), for training.

PyTorch's pool keeps an int64 index per output, and its backward zero-fills the whole input
gradient before scattering into it: three passes over memory for a layer with almost no
arithmetic. The kernel keeps a byte per output and writes each input gradient once. Its results
are PyTorch's bit for bit (ties and NaNs included), so a run does not depend on which of the two
computed it. ``route_pool_layers(model)`` switches a model's 2x2 pools to it where the kernel
could be built; the model, its state dict, its summary and its export do not change.
"""

from __future__ import annotations

import ctypes

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from savi_tui.core.native_kernels import load_kernels


def _kernels():
    return load_kernels("maxpool2x2")


def _shape(x: torch.Tensor) -> tuple[ctypes.c_int64, ...]:
    n, c, h, w = x.shape
    return tuple(ctypes.c_int64(size) for size in (n, h, w, c))


def _pointer(x: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(x.data_ptr())


class _MaxPool2x2Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        n, c, h, w = x.shape
        out = torch.empty((n, c, h // 2, w // 2), memory_format=torch.channels_last)
        winner = torch.empty(out.shape, dtype=torch.uint8, memory_format=torch.channels_last)
        _kernels().maxpool2x2_forward(_pointer(x), _pointer(out), _pointer(winner), *_shape(x))
        ctx.save_for_backward(winner)
        ctx.input_shape = x.shape
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        grad = grad.float().contiguous(memory_format=torch.channels_last)
        grad_input = torch.empty(ctx.input_shape, memory_format=torch.channels_last)
        _kernels().maxpool2x2_backward(_pointer(grad), _pointer(winner), _pointer(grad_input), *_shape(grad_input))
        return grad_input


def _kernel_applies(x: torch.Tensor) -> bool:
    """A real float32 CPU batch in channels_last: not a traced, compiled or exported one (their
    fake tensors have no memory), and not an empty batch."""
    return (
        type(x) is torch.Tensor
        and x.dim() == 4
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and x.numel() > 0
        and x.is_contiguous(memory_format=torch.channels_last)
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
    )


class FastMaxPool2d(nn.MaxPool2d):
    """An ``nn.MaxPool2d(2)`` computed by the kernel where it applies, else by PyTorch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _kernel_applies(x):
            return _MaxPool2x2Function.apply(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)


def _is_2x2(pool: nn.Module) -> bool:
    def pair(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value, value)

    return (
        type(pool) is nn.MaxPool2d
        and pair(pool.kernel_size) == (2, 2)
        and pair(pool.stride) == (2, 2)
        and pair(pool.padding) == (0, 0)
        and pair(pool.dilation) == (1, 1)
        and not pool.ceil_mode
        and not pool.return_indices
    )


def route_pool_layers(model: nn.Module) -> int:
    """Let the model's 2x2 max pools run on the kernel where it could be built (in place);
    returns how many layers were switched."""
    if _kernels() is None:
        return 0
    pools = [module for module in model.modules() if _is_2x2(module)]
    for pool in pools:
        pool.__class__ = FastMaxPool2d
    return len(pools)
