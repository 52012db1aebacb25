"""Prepare a training run: check everything, then create or open the experiment.

Shared by the CLI and the app. Bad input raises a ``SaviError`` before anything
is written: the dataset is loaded before the experiment folder is created.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
from collections.abc import Callable
from pathlib import Path

from savi_tui.core.config import TrainConfig
from savi_tui.core.data import default_datasets_root, load_data
from savi_tui.core.device import check_device
from savi_tui.core.errors import ConfigError, ExperimentError, ExperimentLocked
from savi_tui.core.events import Event
from savi_tui.core.experiments import (
    create_experiment,
    default_experiments_root,
    generate_name,
    open_experiment,
    validate_name,
)
from savi_tui.core.roots import check_experiments_root, check_root
from savi_tui.core.trainer import Trainer


def resume_command(
    name: str, root: str | os.PathLike | None = None, datasets_root: str | os.PathLike | None = None
) -> str:
    """The shell command that continues ``name``, runnable as printed."""
    command = f"savi-tui train --resume {name}"
    if root is not None and Path(root).resolve() != default_experiments_root().resolve():
        command += f" -ep {shlex.quote(str(root))}"
    if datasets_root is not None and Path(datasets_root).resolve() != default_datasets_root().resolve():
        command += f" --datasets-root {shlex.quote(str(datasets_root))}"
    return command


def extend_hint(info, root: str | os.PathLike | None = None, datasets_root: str | os.PathLike | None = None) -> str:
    """What to run to train a complete experiment (an ``ExperimentInfo``) longer, runnable as printed."""
    done = f"{info.name} is complete: all {info.epochs_planned} epochs are done."
    if (info.config or {}).get("recipe") == "fast":
        return f"{done} The fast recipe's one-cycle schedule cannot be extended: start a new experiment."
    command = resume_command(info.name, root, datasets_root) + f" -ne {info.epochs_planned + 5}"
    return f"{done} To train it longer: {command}"


def new_run(
    config: TrainConfig,
    *,
    root: str | os.PathLike | None = None,
    name: str | None = None,
    datasets_root: str | os.PathLike | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Trainer:
    root = Path(root) if root is not None else default_experiments_root()
    config.validate()
    check_device(config.device)
    check_experiments_root(root)
    if name is not None:
        validate_name(name)
        if (root / name).exists():
            raise ExperimentError(f"experiment {name!r} already exists in {root}; choose another name or resume it")
    data = _load(config, datasets_root)
    experiment = create_experiment(root, name or generate_name(config.model, root), config)
    return Trainer(experiment, data, on_event, resume_command=resume_command(experiment.name, root, datasets_root))


def resume_run(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    epochs: int | None = None,
    device: str | None = None,
    datasets_root: str | os.PathLike | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> Trainer:
    """Open an experiment to continue it.

    ``epochs`` extends (never shortens) the plan; ``device`` moves the run, e.g. a
    run started on a GPU server continues with ``cpu`` on a laptop.
    """
    root = Path(root) if root is not None else default_experiments_root()
    check_experiments_root(root, writable=False)  # only the experiment's folder is written
    experiment = open_experiment(root, name)
    check_root(experiment.path, "experiment folder", ExperimentError)
    if experiment.is_running():
        raise ExperimentLocked(
            f"experiment {name} is being trained by {experiment.lock().holder()}; one training per experiment"
        )
    config = experiment.read_config()
    changes = {}
    if device is not None and device != config.device:
        changes["device"] = device
    check_device(changes.get("device", config.device))
    if epochs is not None and epochs != config.epochs:
        if epochs < config.epochs:
            raise ConfigError(f"cannot shorten {name} from {config.epochs} to {epochs} epochs")
        if config.recipe == "fast":
            raise ConfigError("the fast recipe's one-cycle schedule is fixed at its start; it cannot be extended")
        changes["epochs"] = epochs
    dataclasses.replace(config, **changes).validate()
    data = _load(config, datasets_root)
    trainer = Trainer(experiment, data, on_event, resume_command=resume_command(name, root, datasets_root))
    trainer.config_changes = changes
    return trainer


def _load(config: TrainConfig, datasets_root: str | os.PathLike | None):
    return load_data(
        config.dataset,
        data_folder=config.data_folder,
        root=datasets_root,
        percentage=config.percentage,
        seed=config.seed,
    )
