"""The kernels a model trains with on the CPU, where they are faster than PyTorch's defaults:
oneDNN for float32 Linear layers, compiled kernels for 2x2 max pools and for ModelConvNet's
first block. Each is chosen by the machine alone, never by a timing, so an interrupted run and
its resume compute with the same kernels."""

from __future__ import annotations

from torch import nn

from savi_tui.core.fast_maxpool import route_pool_layers
from savi_tui.core.fused_conv_pool import route_first_block
from savi_tui.core.onednn_linear import route_linear_layers


def route_to_cpu_kernels(model: nn.Module) -> None:
    """Switch the model's layers to the faster kernels, in place; its parameters do not change."""
    route_linear_layers(model)
    route_pool_layers(model)
    route_first_block(model)
