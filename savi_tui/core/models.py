"""The model registry: names, descriptions, a factory and torchinfo's summary of each.

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


@dataclass(frozen=True)
class SummaryRow:
    """One row of torchinfo's table."""

    layer: str  # the class name, e.g. "Linear"
    depth: int  # 0 is the model itself
    output_shape: tuple[int, ...]  # for one image: the batch dimension is 1
    params: int  # as torchinfo's "Param #" counts them: a container's children are not counted again


@dataclass(frozen=True)
class ModelSummary:
    """torchinfo's table as text, and its rows as data (for a view too narrow for the text)."""

    text: str
    rows: tuple[SummaryRow, ...] = ()  # empty when only the text is known (an experiment's summary.txt)
    total_params: int | None = None
    trainable_params: int | None = None


def summarize_model(name: str) -> ModelSummary:
    """The torchinfo summary of a model for one 1x28x28 image: its text and its rows, from one call."""
    import torchinfo

    stats = torchinfo.summary(
        create_model(name),
        input_size=(1, 1, 28, 28),
        col_names=("output_size", "num_params"),
        col_width=16,  # the widest output shape, [1, 32, 28, 28], and a space: 72 columns in all
        verbose=0,
        device="cpu",
    )
    deepest = stats.formatting.max_depth
    rows = tuple(
        SummaryRow(
            layer.class_name,
            layer.depth,
            tuple(layer.output_size),
            # the rule of torchinfo's LayerInfo.num_params_to_str, as a number
            layer.num_params if layer.is_leaf_layer or layer.depth == deepest else layer.leftover_params(),
        )
        for layer in stats.summary_list
        if layer.depth <= deepest
    )
    return ModelSummary(str(stats), rows, stats.total_params, stats.trainable_params)


def model_summary(name: str) -> str:
    """The torchinfo table of a model for one 1x28x28 image."""
    return summarize_model(name).text
