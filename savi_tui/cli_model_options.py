"""The model option flags (--hidden, --activation, --blocks, --channels, --batchnorm, --dropout):
made from the registry's options, and read back as a model's ``model_options``.

A flag the chosen model does not take is refused, not ignored: a study would otherwise run
the same network twice under two names.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from savi_tui.core.errors import ConfigError
from savi_tui.core.models import MODELS, OPTION_MODELS, format_option, variant_options


def _options() -> dict:
    """Each option name once (the first model's definition; ranges are the same for every model)."""
    found = {}
    for spec in MODELS.values():
        for option in spec.options:
            found.setdefault(option.name, option)
    return found


def add_model_option_flags(parser: argparse.ArgumentParser, number_types: dict[type, Callable]) -> None:
    """The flags, each defaulting to None: "not given" means the model's default."""
    group = parser.add_argument_group("model options (each applies to the models named)")
    for name, option in _options().items():
        takers = OPTION_MODELS[name]
        defaults = {m.removeprefix("Model"): format_option(MODELS[m].option(name).default) for m in takers}
        if len(set(defaults.values())) == 1:
            default_text = next(iter(defaults.values()))
        else:
            default_text = ", ".join(f"{m} {value}" for m, value in defaults.items())
        help_text = f"{option.help} ({' and '.join(defaults)}); default {default_text}"
        if option.kind is bool:
            group.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif option.kind is str:
            group.add_argument(f"--{name}", choices=option.choices, default=None, help=help_text)
        else:
            metavar = "N" if option.kind is int else "P"
            range_text = f"{option.low:g} to {option.high:g}"
            group.add_argument(
                f"--{name}",
                type=number_types[option.kind],
                metavar=metavar,
                default=None,
                help=f"{help_text}; {range_text}",
            )


def given_model_flags(args) -> dict:
    """The option flags given on the command line: name → value."""
    return {name: getattr(args, name) for name in OPTION_MODELS if getattr(args, name, None) is not None}


def model_options_from_flags(args, model: str) -> dict:
    """The model's options from the flags (only those that differ from its defaults), every value checked."""
    given = given_model_flags(args)
    for name in given:
        if model not in OPTION_MODELS[name]:
            raise ConfigError(f"--{name} applies to {' and '.join(OPTION_MODELS[name])}, not {model}")
    return variant_options(model, given)


def refuse_model_flags_on_resume(args) -> None:
    given = given_model_flags(args)
    if given:
        flags = ", ".join(f"--{name}" for name in given)
        raise ConfigError(f"{flags}: a model's options cannot change on resume (they are in its config.json)")
