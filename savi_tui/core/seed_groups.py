"""A group: one experiment per seed with the same settings, queued for the runner.

``--seeds 0-4`` or ``0,3,7`` (the form's Seeds field the same) makes experiments NAME-s0,
NAME-s3, ..., each with ``group`` NAME in its config. Everything is checked before the first
folder is made.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ConfigError, ExperimentError
from savi_tui.core.experiments import (
    Experiment,
    create_experiment,
    default_experiments_root,
    generate_name,
    validate_name,
)
from savi_tui.core.queue import RunQueue

MAX_SEEDS = 100  # a study, not a sweep: more would queue days of training by a typo
_PART = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_seeds(text: str) -> list[int]:
    """``"0-4"``, ``"0,3,7"`` or both (``"0-2,9"``) as the list of seeds, in the order given."""
    parts = [part.strip() for part in str(text).split(",")]
    if not text.strip() or not all(parts):
        raise ConfigError(f"seeds {text!r}: give a range like 0-4 or a list like 0,3,7")
    seeds: list[int] = []
    for part in parts:
        match = _PART.match(part)
        if match is None:
            raise ConfigError(f"seeds {text!r}: {part!r} is not a seed (a whole number ≥ 0) or a range like 0-4")
        low, high = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if high < low:
            raise ConfigError(f"seeds {text!r}: the range {part} runs backwards; write {high}-{low}")
        if len(seeds) + high - low + 1 > MAX_SEEDS:
            raise ConfigError(f"seeds {text!r}: at most {MAX_SEEDS} seeds in a group")
        seeds += range(low, high + 1)
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ConfigError(f"seeds {text!r}: seed {', '.join(map(str, duplicates))} given twice")
    for seed in seeds:
        TrainConfig(seed=seed).validate()  # the core's own range of a seed
    return seeds


def member_name(group: str, seed: int) -> str:
    return f"{group}-s{seed}"


def create_group(
    config: TrainConfig,
    seeds: list[int],
    *,
    root: str | os.PathLike | None = None,
    name: str | None = None,
    datasets_root: str | os.PathLike | None = None,
) -> list[Experiment]:
    """Make one experiment per seed (``config`` with its seed and ``group``) and queue them in order.

    Checks everything first, as ``new_run`` does (it makes the first one, loading the data once
    to check it); then no folder exists yet that would be left half a group.
    """
    from savi_tui.core.runs import new_run

    root = Path(root) if root is not None else default_experiments_root()
    if not seeds:
        raise ConfigError("a group needs at least one seed")
    group = validate_name(name) if name is not None else generate_name(config.model, root)
    configs = [dataclasses.replace(config, seed=seed, group=group) for seed in seeds]
    names = [member_name(group, seed) for seed in seeds]
    for member, member_config in zip(names, configs, strict=True):
        validate_name(member)
        member_config.validate()
        if (root / member).exists():
            raise ExperimentError(f"experiment {member!r} already exists in {root}; choose another group name")
    first = new_run(configs[0], root=root, name=names[0], datasets_root=datasets_root).experiment
    experiments = [first] + [create_experiment(root, n, c) for n, c in zip(names[1:], configs[1:], strict=True)]
    RunQueue(root).add(names, group=group)
    return experiments
