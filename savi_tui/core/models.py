"""The model registry: names, descriptions, each model's options, a factory and torchinfo's summary.

Importing this module does not import torch, so menus and ``--help`` stay fast;
``create_model`` imports the networks when one is really built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from savi_tui.core.errors import ConfigError

ACTIVATIONS = ("sigmoid", "relu", "tanh", "identity")  # the lesson's four


@dataclass(frozen=True)
class ModelOption:
    """One option of a model: its kind, default and range, and how a variant's name shows it."""

    name: str  # the key in config.json's model_options, and the flag --NAME
    kind: type  # int, float, bool or str
    default: object
    help: str
    low: float | None = None  # int and float options: the allowed range, both ends included
    high: float | None = None
    choices: tuple[str, ...] = ()  # str options
    tag: str = ""  # prefix in a variant's short name: "b" → "b3"; a bool shows as the tag or nothing

    def check(self, value) -> object:
        """The value, or a one-line ``ConfigError`` ("dropout must be a number from 0 to 0.9, got 1.5")."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{self.name} must be true or false, got {value!r}")
            return value
        if self.kind is str:
            if value not in self.choices:
                raise ConfigError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if self.kind is int:
            if not numeric or not isinstance(value, int) or not self.low <= value <= self.high:
                raise ConfigError(f"{self.name} must be a whole number from {self.low} to {self.high}, got {value!r}")
            return value
        if not numeric or not math.isfinite(value) or not self.low <= value <= self.high:
            raise ConfigError(f"{self.name} must be a number from {self.low:g} to {self.high:g}, got {value!r}")
        return float(value)

    def short(self, value) -> str:
        if self.kind is bool:
            return self.tag if value else ""
        if self.kind is str:
            return str(value)
        return f"{self.tag}{value:g}"


def _hidden() -> ModelOption:
    return ModelOption("hidden", int, 128, "hidden units", low=1, high=4096, tag="h")


def _activation() -> ModelOption:
    return ModelOption("activation", str, "sigmoid", "the hidden layer's activation", choices=ACTIVATIONS)


def _conv_options(batchnorm: bool, dropout: float) -> tuple[ModelOption, ...]:
    return (
        ModelOption("blocks", int, 2, "conv blocks, each halving the image", low=1, high=4, tag="b"),
        ModelOption("channels", int, 32, "channels of the first block; doubled per block", low=1, high=256, tag="c"),
        ModelOption("batchnorm", bool, batchnorm, "BatchNorm after each convolution", tag="bn"),
        ModelOption("dropout", float, dropout, "dropout before each Linear layer", low=0.0, high=0.9, tag="p"),
    )


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    parameters: int  # with the default options
    convolutional: bool  # trains faster in channels_last memory format
    options: tuple[ModelOption, ...] = ()

    def option(self, name: str) -> ModelOption | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def short_name(self) -> str:
        return self.name.removeprefix("Model")


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "ModelFullyConnected",
            "one hidden layer of 128 sigmoid units; the course's first model",
            parameters=101_770,
            convolutional=False,
            options=(_hidden(), _activation()),
        ),
        ModelSpec(
            "ModelConvNet",
            "two conv+pool blocks, then 128 hidden units; the course's CNN",
            parameters=421_642,
            convolutional=True,
            options=_conv_options(batchnorm=False, dropout=0.0),
        ),
        ModelSpec(
            "ModelBetterCNN",
            "double conv blocks with BatchNorm, dropout before the classifier",
            parameters=468_010,
            convolutional=True,
            options=_conv_options(batchnorm=True, dropout=0.3),
        ),
    )
}

# every option of any model, for the command line: name → the models that take it
OPTION_MODELS: dict[str, tuple[str, ...]] = {}
for _spec in MODELS.values():
    for _option in _spec.options:
        OPTION_MODELS[_option.name] = (*OPTION_MODELS.get(_option.name, ()), _spec.name)


def check_model_name(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def resolve_options(name: str, options: dict | None = None) -> dict:
    """Every option of the model, the given ones checked and the others at their defaults."""
    spec = check_model_name(name)
    options = options or {}
    if not isinstance(options, dict):
        raise ConfigError(f"model options must be a JSON object, got {type(options).__name__}")
    for key in options:
        if spec.option(key) is None:
            takers = OPTION_MODELS.get(key)
            if takers:
                raise ConfigError(f"option {key} applies to {' and '.join(takers)}, not {name}")
            raise ConfigError(f"unknown option {key!r} for {name}; it takes: {', '.join(o.name for o in spec.options)}")
    return {o.name: o.check(options[o.name]) if o.name in options else o.default for o in spec.options}


def variant_options(name: str, options: dict | None = None) -> dict:
    """The options that differ from the model's defaults: {} is the default network (config.json's form)."""
    spec = check_model_name(name)
    return {k: v for k, v in resolve_options(name, options).items() if v != spec.option(k).default}


def variant_key(name: str, options: dict | None = None) -> str:
    """A text naming the variant exactly: the model's name alone for the defaults ("ModelConvNet blocks=3")."""
    changed = variant_options(name, options) if name in MODELS else {}
    return " ".join([name, *(f"{k}={v}" for k, v in changed.items())])


def describe_variant(name: str, options: dict | None = None) -> str:
    """Compact, for a list: the short name alone for the default network, else with every option
    in a fixed order, so that variants line up: "ConvNet b3 c32 bn p0.5" (no "bn": without)."""
    spec = MODELS.get(name)
    if spec is None:
        return name.removeprefix("Model") or name
    try:
        if not variant_options(name, options):
            return spec.short_name
        resolved = resolve_options(name, options)
    except ConfigError:
        return f"{spec.short_name} ?"
    parts = (o.short(resolved[o.name]) for o in spec.options)
    return " ".join([spec.short_name, *(p for p in parts if p)])


def format_option(value) -> str:
    """An option's value in words: "on", "off", "0.5", "relu"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def describe_options(name: str, options: dict | None = None) -> str:
    """The model and all its options: "ModelConvNet (blocks=3, channels=32, batchnorm=off, dropout=0.5)"."""
    try:
        resolved = resolve_options(name, options)
    except ConfigError:
        return f"{name} {options or ''}".rstrip()
    return f"{name} ({', '.join(f'{k}={format_option(v)}' for k, v in resolved.items())})"


def create_model(name: str, options: dict | None = None):
    """A freshly initialised ``nn.Module`` (seed the RNG first for reproducibility)."""
    resolved = resolve_options(name, options)
    from savi_tui.core import networks

    return getattr(networks, name)(**resolved)


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


def summarize_model(name: str, options: dict | None = None) -> ModelSummary:
    """The torchinfo summary of a model (a variant, with ``options``) for one 1x28x28 image: its text and
    its rows, from one call."""
    import torchinfo

    stats = torchinfo.summary(
        create_model(name, options),
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


def model_summary(name: str, options: dict | None = None) -> str:
    """The torchinfo table of a model for one 1x28x28 image."""
    return summarize_model(name, options).text
