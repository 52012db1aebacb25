"""The custom messages: the only road from worker threads back to widgets."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class TrainingEvent(Message):
    """A core training event (``savi_tui.core.events``), posted from the training thread."""

    def __init__(self, run_id: int, event: Any) -> None:
        super().__init__()
        self.run_id = run_id
        self.event = event


class TrainingEnded(Message):
    """The training worker returned: ``outcome`` is "finished", "stopped" or "failed"."""

    def __init__(self, run_id: int, outcome: str, error: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.outcome = outcome
        self.error = error


class ExperimentsLoaded(Message):
    """A fresh listing of the experiments root (a list of ``ExperimentInfo``)."""

    def __init__(self, infos: list) -> None:
        super().__init__()
        self.infos = infos


class SummaryReady(Message):
    """The torchinfo summary of a model (``key`` is the model or experiment it belongs to)."""

    def __init__(self, key: str, text: str) -> None:
        super().__init__()
        self.key = key
        self.text = text


class ExportFinished(Message):
    """An ONNX export completed (``result`` is a core ``ExportResult``)."""

    def __init__(self, experiment: str, result: Any) -> None:
        super().__init__()
        self.experiment = experiment
        self.result = result


class ExperimentDeleted(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
