"""2x2 max pooling with stride 2 on the CPU by a compiled kernel (``maxpool2x2.c``), for training
in float32 or in bfloat16 (the fast recipe's autocast).

PyTorch's pool keeps an int64 index per output, and its backward zero-fills the whole input
gradient before scattering into it: three passes over memory for a layer with almost no
arithmetic. The kernel keeps a byte per output and writes each input gradient once. Its results
are PyTorch's bit for bit (ties and NaNs included; in bfloat16 a NaN keeps its own bits, where
PyTorch writes a standard NaN), so a run does not depend on which of the two
computed it. ``route_pool_layers(model)`` switches a model's 2x2 pools to it where the kernel
could be built; the model, its state dict, its summary and its export do not change.
"""

from __future__ import annotations

import ctypes

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from savi_tui.core.native_kernels import kernel_can_read, load_kernels, pointer, sizes


def _kernels():
    return load_kernels("maxpool2x2")


def _sizes(x: torch.Tensor):
    n, c, h, w = x.shape
    return sizes(n, h, w, c)


# the kernel's functions for each dtype it computes in: float32, and bfloat16 as autocast gives it
_PREFIX = {torch.float32: "maxpool2x2", torch.bfloat16: "maxpool2x2_bf16"}
DTYPES = ("float32", "bfloat16")


def _function(dtype: torch.dtype, direction: str):
    return getattr(_kernels(), f"{_PREFIX[dtype]}_{direction}")


class _MaxPool2x2Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, relu: bool):
        n, c, h, w = x.shape
        out = torch.empty((n, c, h // 2, w // 2), dtype=x.dtype, memory_format=torch.channels_last)
        winner = torch.empty(out.shape, dtype=torch.uint8, memory_format=torch.channels_last)
        _function(x.dtype, "forward")(pointer(x), pointer(out), pointer(winner), *_sizes(x), ctypes.c_int(relu))
        ctx.save_for_backward(winner)
        ctx.input_shape, ctx.dtype = x.shape, x.dtype
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (winner,) = ctx.saved_tensors
        grad = grad.to(ctx.dtype).contiguous(memory_format=torch.channels_last)
        grad_input = torch.empty(ctx.input_shape, dtype=ctx.dtype, memory_format=torch.channels_last)
        _function(ctx.dtype, "backward")(pointer(grad), pointer(winner), pointer(grad_input), *_sizes(grad_input))
        return grad_input, None


class FastMaxPool2d(nn.MaxPool2d):
    """An ``nn.MaxPool2d(2)`` computed by the kernel where it applies, else by PyTorch; with
    ``relu=True``, ``relu(pool(x))`` in the same pass."""

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        if kernel_can_read(x, DTYPES) and x.is_contiguous(memory_format=torch.channels_last):
            return _MaxPool2x2Function.apply(x, relu)
        x = F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
        return F.relu(x) if relu else x


def relu_of_pool(pool: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``relu(pool(x))``: one pass of the kernel where ``pool`` is routed to it."""
    return pool(x, relu=True) if isinstance(pool, FastMaxPool2d) else F.relu(pool(x))


def is_2x2_pool(pool: nn.Module) -> bool:
    """A max pool the kernels compute: 2x2 windows, stride 2, no padding, floor."""

    def pair(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value, value)

    return (
        isinstance(pool, nn.MaxPool2d)
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
    pools = [module for module in model.modules() if type(module) is nn.MaxPool2d and is_2x2_pool(module)]
    for pool in pools:
        pool.__class__ = FastMaxPool2d
    return len(pools)
