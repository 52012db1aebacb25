"""The model registry: names, descriptions and a factory.

Importing this module does not import torch, so menus and ``--help`` stay fast;
``create_model`` imports the networks when one is really built.
"""

from __future__ import annotations

from dataclasses import dataclass

from savi_tui.core.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    parameters: int
    convolutional: bool  # trains faster in channels_last memory format


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "ModelFullyConnected",
            "one hidden layer of 128 sigmoid units; the course's first model",
            parameters=101_770,
            convolutional=False,
        ),
        ModelSpec(
            "ModelConvNet",
            "two conv+pool blocks, then 128 hidden units; the course's CNN",
            parameters=421_642,
            convolutional=True,
        ),
        ModelSpec(
            "ModelBetterCNN",
            "double conv blocks with BatchNorm, dropout before the classifier",
            parameters=468_010,
            convolutional=True,
        ),
    )
}


def check_model_name(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def create_model(name: str):
    """A freshly initialised ``nn.Module`` (seed the RNG first for reproducibility)."""
    check_model_name(name)
    from savi_tui.core import networks

    return getattr(networks, name)()


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def model_summary(name: str) -> str:
    """The torchinfo table of a model for one 1x28x28 image."""
    import torchinfo

    stats = torchinfo.summary(
        create_model(name),
        input_size=(1, 1, 28, 28),
        col_names=("output_size", "num_params"),
        col_width=16,  # 72 columns in all: the whole table fits a pane of an 80-column terminal
        verbose=0,
        device="cpu",
    )
    return str(stats)
