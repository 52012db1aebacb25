"""Training settings as plain values, with the checks that refuse bad ones."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from savi_tui.core.errors import ConfigError
from savi_tui.core.models import check_model_name, resolve_options

DATASETS = ("mnist", "fashion-mnist", "kmnist", "folder")
OPTIMIZERS = ("adam", "adamw", "sgd")
DEVICES = ("auto", "cpu", "cuda")
RECIPES = ("default", "fast")


@dataclass
class TrainConfig:
    model: str = "ModelFullyConnected"
    dataset: str = "mnist"
    data_folder: str | None = None  # the course's JPG folder, when dataset == "folder"
    batch_size: int = 512
    epochs: int = 10
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    percentage: float = 1.0  # fraction of the examples used (the course's -pe)
    seed: int = 0
    device: str = "auto"
    recipe: str = "default"
    # the network's options that differ from its defaults (models.py); {} (or absent, in an
    # older config.json) is the default network
    model_options: dict = field(default_factory=dict)
    group: str | None = None  # the name of the group of seeds this run belongs to

    def to_dict(self) -> dict:
        # not asdict(), whose deep copy of every field was a third of listing a thousand experiments
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**values, "model_options": dict(self.model_options)}

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """Build from a parsed config.json, refusing unknown keys and wrong types."""
        if not isinstance(data, dict):
            raise ConfigError("config must be a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        values = {}
        for name, value in data.items():
            expected = _TYPES[name]
            if value is None and name in ("data_folder", "group"):
                values[name] = None
            elif expected is float and isinstance(value, int) and not isinstance(value, bool):
                values[name] = float(value)
            elif not isinstance(value, expected) or isinstance(value, bool):
                raise ConfigError(f"config key {name!r} must be {expected.__name__}, got {type(value).__name__}")
            else:
                values[name] = value
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        check_model_name(self.model)
        resolve_options(self.model, self.model_options)
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; choose one of: {', '.join(DATASETS)}")
        if self.dataset == "folder" and not self.data_folder:
            raise ConfigError("dataset 'folder' needs a data folder (-df DIR)")
        _check_int("batch size", self.batch_size, 1, 1_000_000)
        _check_int("epochs", self.epochs, 1, 100_000)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        if not (math.isfinite(self.learning_rate) and 0 < self.learning_rate <= 10):
            raise ConfigError(f"learning rate must be in (0, 10], got {self.learning_rate}")
        if not (math.isfinite(self.percentage) and 0 < self.percentage <= 1):
            raise ConfigError(f"fraction of examples must be in (0, 1], got {self.percentage}")
        for label, value, allowed in (
            ("optimizer", self.optimizer, OPTIMIZERS),
            ("device", self.device, DEVICES),
            ("recipe", self.recipe, RECIPES),
        ):
            if value not in allowed:
                raise ConfigError(f"unknown {label} {value!r}; choose one of: {', '.join(allowed)}")


_TYPES = {
    "model": str,
    "dataset": str,
    "data_folder": str,
    "batch_size": int,
    "epochs": int,
    "learning_rate": float,
    "optimizer": str,
    "percentage": float,
    "seed": int,
    "device": str,
    "recipe": str,
    "model_options": dict,
    "group": str,
}


def _check_int(label: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{label} must be a whole number from {low} to {high}, got {value!r}")
