"""ModelConvNet's first block, a 3x3 convolution of the one-channel image followed by a 2x2 max
pool and a ReLU, computed by one compiled kernel (``conv1_pool.c``) on the CPU, for training. Its
sums are float32, under the fast recipe's bf16 autocast too, where its output is rounded once to
the bfloat16 that the next convolution computes in (and its gradient comes back in bfloat16).

Apart, the three layers are bound by memory: the convolution's output, 32 channels of 28x28 an
image, is written, read by the pool, and its gradient written and read again, for about 1 % of
the network's arithmetic. The kernel never stores it. The pool picks its maximum as PyTorch's
does, the ReLU zeroes what PyTorch's does; the sums are the same as PyTorch's up to their order
(float rounding), fixed whatever the number of threads. The convolution's input gets no
gradient, which a network's input needs none of.

``route_first_block(model)`` lets a ModelConvNet take the kernel where it could be built; the
model's modules, parameters, state dict, summary and export do not change.
"""

from __future__ import annotations

import ctypes

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from savi_tui.core.fast_maxpool import is_2x2_pool
from savi_tui.core.native_kernels import kernel_can_read, load_kernels, pointer, sizes


def _kernels():
    return load_kernels("conv1_pool")


def _padded(channels: int) -> int:
    """The weight's channels padded to a multiple of the kernel's vector (its BLOCK)."""
    block = _kernels().conv1_pool_block()
    return -(-channels // block) * block


def _sizes(x: torch.Tensor, channels: int):
    n, _, h, w = x.shape
    return sizes(n, h, w, channels)


def _output_dtype() -> torch.dtype:
    """bfloat16 under bf16 autocast, which the next convolution computes in anyway; else float32."""
    if torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16:
        return torch.bfloat16
    return torch.float32


class _ConvPoolReluFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        n, _, h, w = x.shape
        channels = weight.shape[0]
        weight_t = torch.zeros(9, _padded(channels))
        weight_t[:, :channels] = weight.detach().reshape(channels, 9).t()
        x = x.contiguous()  # one channel: the same memory as channels_last
        dtype = _output_dtype()
        out = torch.empty((n, channels, h // 2, w // 2), dtype=dtype, memory_format=torch.channels_last)
        winner = torch.empty(out.shape, dtype=torch.uint8, memory_format=torch.channels_last)
        bias = None if bias is None else bias.detach().contiguous()
        _kernels().conv1_pool_forward(
            pointer(x),
            pointer(weight_t),
            pointer(bias),
            pointer(out),
            pointer(winner),
            *_sizes(x, channels),
            ctypes.c_int(dtype == torch.bfloat16),
        )
        ctx.save_for_backward(x, winner)
        ctx.channels, ctx.has_bias, ctx.weight_shape = channels, bias is not None, weight.shape
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, winner = ctx.saved_tensors
        channels, padded = ctx.channels, _padded(ctx.channels)
        if grad.dtype != torch.bfloat16:
            grad = grad.float()
        grad = grad.contiguous(memory_format=torch.channels_last)
        partial = torch.empty(x.shape[0] * 10 * padded)
        grad_weight_t = torch.empty(9, padded)
        grad_bias = torch.empty(channels) if ctx.has_bias else None
        _kernels().conv1_pool_backward(
            pointer(x),
            pointer(grad),
            pointer(winner),
            pointer(partial),
            pointer(grad_weight_t),
            pointer(grad_bias),
            *_sizes(x, channels),
            ctypes.c_int(grad.dtype == torch.bfloat16),
        )
        grad_weight = grad_weight_t[:, :channels].t().reshape(ctx.weight_shape)
        return None, grad_weight, grad_bias


def _fits(conv: nn.Module, pool: nn.Module) -> bool:
    """A one-channel 3x3 convolution, padding 1, then a 2x2 pool of stride 2."""
    return (
        isinstance(conv, nn.Conv2d)
        and conv.in_channels == 1
        and conv.out_channels > 0
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and is_2x2_pool(pool)
    )


def conv_pool_applies(x: torch.Tensor, conv: nn.Conv2d) -> bool:
    """A float32 batch of one-channel images the kernel can read that needs no gradient, for
    float32 weights."""
    return kernel_can_read(x) and x.shape[1] == 1 and conv.weight.dtype == torch.float32 and not x.requires_grad


def conv_pool_relu(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """relu(max_pool2d(conv(x), 2)), by the kernel: float32, or bfloat16 under bf16 autocast."""
    return _ConvPoolReluFunction.apply(x, conv.weight, conv.bias)


def route_first_block(model: nn.Module) -> bool:
    """Let a ModelConvNet's first block run on the kernel where it fits and could be built (in place)."""
    if not hasattr(model, "fuse_first_block") or getattr(model, "_batchnorm", True):
        return False
    if not _fits(model.conv1, model.pool1) or _kernels() is None:
        return False
    model.fuse_first_block = True
    return True
