"""The networks: classifiers for 1x28x28 images and 10 classes.

Activations that carry no parameters are called functionally where the course's
torchinfo table must not list them (ModelConvNet), so the summary matches its
figures exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ModelFullyConnected(nn.Module):
    """Linear 784→128, Sigmoid, Linear 128→10 (101,770 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.sigmoid = nn.Sigmoid()
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        return self.fc2(self.sigmoid(self.fc1(x)))


class ModelConvNet(nn.Module):
    """Two conv+pool blocks and two Linear layers (421,642 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # relu(pool(x)) is pool(relu(x)) exactly, gradients included (ReLU is monotonic, so the
        # max sits at the same place), and ReLU then touches a quarter of the values.
        x = F.relu(self.pool1(self.conv1(x)))
        x = F.relu(self.pool2(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def _conv_block(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels_out, channels_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class ModelBetterCNN(nn.Module):
    """Two double-conv blocks with BatchNorm and ReLU, dropout before the classifier.

    32 and 64 channels, then Dropout(0.3), Linear 3136→128, ReLU, Dropout(0.3),
    Linear 128→10: 468,010 parameters (BatchNorm included).
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(_conv_block(1, 32), _conv_block(32, 64))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
