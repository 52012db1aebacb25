"""The custom messages: the only road from worker threads and screens up to the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

# -- from the workers ---------------------------------------------------------


@dataclass
class TrainingEvent(Message):
    """A core training event (``savi_tui.core.events``), posted from the training thread."""

    run_id: int
    event: Any


@dataclass
class TrainingEnded(Message):
    """The training worker returned: ``outcome`` is "finished", "stopped" or "failed"."""

    run_id: int
    outcome: str
    error: str | None = None


@dataclass
class ContinueInBackground(Message):
    """Hand this app's training over to a background process (it saves, then goes on there)."""


@dataclass
class RunFollowed(Message):
    """What following another process's run found since the last look (a core ``FollowUpdate``)."""

    update: Any


@dataclass
class ExperimentsLoaded(Message):
    """A fresh listing of the experiments root (a list of ``ExperimentInfo``) and the
    ``folder_signature`` it was read at; or, with ``verified_from``, the listing ``infos`` came from
    with its checkpoints' checksums verified."""

    infos: list
    signature: tuple = ()
    verified_from: list | None = None


@dataclass
class SummaryReady(Message):
    """The torchinfo summary of a model (``key`` is the model it belongs to; a core ``ModelSummary``)."""

    key: str
    summary: Any


@dataclass
class ExportFinished(Message):
    """An ONNX export completed (``result`` is a core ``ExportResult``)."""

    experiment: str
    result: Any


@dataclass
class ExperimentDeleted(Message):
    name: str


@dataclass
class ComparisonReady(Message):
    """A core ``Comparison``, its tables' rows (figures, settings, per class) and the noise statements."""

    comparison: Any
    rows: tuple
    noise: list


@dataclass
class GroupQueued(Message):
    """A group's experiments exist and wait in the queue (``names`` in order); ``runner`` is a new runner's pid."""

    names: list
    runner: int | None


@dataclass
class QueueChanged(Message):
    """A queued run was cancelled or moved (``what`` says how, for a notification)."""

    what: str


# -- from the screens: what the user asked the app to do ----------------------


@dataclass
class StartTraining(Message):
    """Train a new experiment (``config`` is a ``TrainConfig``) under ``name``."""

    config: Any
    name: str


@dataclass
class QueueGroup(Message):
    """Make a group of ``name`` (one experiment per seed of ``seeds``, ``config`` otherwise) and queue it."""

    config: Any
    name: str
    seeds: list


@dataclass
class ResumeExperiment(Message):
    """Resume ``name``; ``info`` is its ``ExperimentInfo`` when the screen has one (else read from disk)."""

    name: str
    info: Any = None


@dataclass
class OpenExperiment(Message):
    """Show an experiment (an ``ExperimentInfo``): the live training if it is this app's one."""

    info: Any


@dataclass
class ExportExperiment(Message):
    """Export an experiment's best checkpoint to ONNX."""

    name: str
