"""The networks: classifiers for 1x28x28 images and 10 classes, each with its options (models.py
defines their defaults and ranges; with the defaults, each is exactly the course's network).

Activations that carry no parameters are called functionally where the course's
torchinfo table must not list them (ModelConvNet), so the summary matches its
figures exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from savi_tui.core.fast_maxpool import relu_of_pool
from savi_tui.core.fused_conv_pool import conv_pool_applies, conv_pool_relu

_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "identity": nn.Identity}


def _side(blocks: int) -> int:
    """The image's side after ``blocks`` 2x2 poolings (floor, as MaxPool2d does): 28, 14, 7, 3, 1."""
    return 28 >> blocks


class ModelFullyConnected(nn.Module):
    """Linear 784→128, Sigmoid, Linear 128→10 (101,770 parameters) by default."""

    def __init__(self, hidden: int = 128, activation: str = "sigmoid") -> None:
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, hidden)
        # named after the activation ("sigmoid" by default, as the course's module is)
        self._activation = activation
        setattr(self, activation, _ACTIVATIONS[activation]())
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        return self.fc2(getattr(self, self._activation)(self.fc1(x)))


class ModelConvNet(nn.Module):
    """Conv+pool blocks and two Linear layers: by default two blocks of 32 and 64 channels,
    no BatchNorm, no dropout (421,642 parameters). Block i's modules are conv{i}, bn{i}, pool{i}."""

    def __init__(self, blocks: int = 2, channels: int = 32, batchnorm: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self._blocks, self._batchnorm = blocks, batchnorm
        channels_in = 1
        for i in range(1, blocks + 1):
            channels_out = channels << (i - 1)
            # a convolution followed by BatchNorm needs no bias: BatchNorm's shift replaces it
            setattr(self, f"conv{i}", nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=not batchnorm))
            if batchnorm:
                setattr(self, f"bn{i}", nn.BatchNorm2d(channels_out))
            setattr(self, f"pool{i}", nn.MaxPool2d(2))
            channels_in = channels_out
        # no Dropout modules at p = 0, so the default table stays the course's
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.fc1 = nn.Linear(channels_in * _side(blocks) ** 2, 128)
        self.fc2 = nn.Linear(128, 10)
        self.fuse_first_block = False  # conv1 and pool1 as one kernel where it applies (fused_conv_pool.py)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self._blocks + 1):
            if i == 1 and self.fuse_first_block and conv_pool_applies(x, self.conv1):
                x = conv_pool_relu(x, self.conv1)
                continue
            x = getattr(self, f"conv{i}")(x)
            if self._batchnorm:
                x = getattr(self, f"bn{i}")(x)
            # relu(pool(x)) is pool(relu(x)) exactly, gradients included (ReLU is monotonic, so the
            # max sits at the same place), and ReLU then touches a quarter of the values.
            x = relu_of_pool(getattr(self, f"pool{i}"), x)
        x = torch.flatten(x, 1)
        if self.dropout is not None:
            x = self.dropout(x)
        x = F.relu(self.fc1(x))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc2(x)


def _conv_block(channels_in: int, channels_out: int, batchnorm: bool = True) -> nn.Sequential:
    def conv_bn_relu(c_in: int) -> list[nn.Module]:
        conv = nn.Conv2d(c_in, channels_out, kernel_size=3, padding=1, bias=not batchnorm)
        return [conv, *([nn.BatchNorm2d(channels_out)] if batchnorm else []), nn.ReLU(inplace=True)]

    return nn.Sequential(*conv_bn_relu(channels_in), *conv_bn_relu(channels_out), nn.MaxPool2d(2))


class ModelBetterCNN(nn.Module):
    """Double-conv blocks with BatchNorm and ReLU, dropout before the classifier's Linear layers.

    By default two blocks of 32 and 64 channels, then Dropout(0.3), Linear 3136→128, ReLU,
    Dropout(0.3), Linear 128→10: 468,010 parameters (BatchNorm included).
    """

    def __init__(self, blocks: int = 2, channels: int = 32, batchnorm: bool = True, dropout: float = 0.3) -> None:
        super().__init__()
        widths = [1, *(channels << i for i in range(blocks))]
        self.features = nn.Sequential(
            *(_conv_block(c_in, c_out, batchnorm) for c_in, c_out in zip(widths, widths[1:], strict=False))
        )

        def dropout_layer() -> list[nn.Module]:
            return [nn.Dropout(dropout)] if dropout else []

        self.classifier = nn.Sequential(
            nn.Flatten(),
            *dropout_layer(),
            nn.Linear(widths[-1] * _side(blocks) ** 2, 128),
            nn.ReLU(inplace=True),
            *dropout_layer(),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
