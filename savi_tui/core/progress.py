"""``progress.json``: the summary of a run that the experiment list reads without the lock.

One record type, one writer (the trainer holding the lock, atomically), one reader.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.errors import ConfigError
from savi_tui.core.events import EpochRecord, Position


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Progress:
    epochs_planned: int
    history: tuple[EpochRecord, ...] = ()
    batch_idx: int = 0  # batches done in the epoch after the last complete one
    batches_per_epoch: int = 0  # 0 in files written before it was recorded
    finished: bool = False
    best_epoch: int | None = None  # 1-based
    best_test_loss: float | None = None
    error: str | None = None  # what stopped the run last, if it failed
    updated: str = field(default_factory=_now)

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def position(self) -> Position:
        return Position.after(self.epochs_done, self.batch_idx, self.batches_per_epoch)

    @property
    def best(self) -> EpochRecord | None:
        return self.history[self.best_epoch - 1] if self.best_epoch else None

    def with_error(self, message: str) -> Progress:
        return replace(self, error=message, updated=_now())

    def to_dict(self) -> dict:
        return {
            "epochs_done": self.epochs_done,
            "epochs_planned": self.epochs_planned,
            "batch_idx": self.batch_idx,
            "batches_per_epoch": self.batches_per_epoch,
            "finished": self.finished,
            "best_epoch": self.best_epoch,
            "best_test_loss": self.best_test_loss,
            "history": [r.to_dict() for r in self.history],
            "error": self.error,
            "updated": self.updated,
        }

    @classmethod
    def from_dict(cls, data, path: str | os.PathLike = "progress.json") -> Progress:
        """``ConfigError`` naming ``path`` for anything but a record this module wrote."""
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: not a JSON object")
        try:
            progress = cls(
                epochs_planned=int(data["epochs_planned"]),
                history=tuple(EpochRecord.from_dict(r) for r in data.get("history", [])),
                batch_idx=int(data.get("batch_idx", 0)),
                batches_per_epoch=int(data.get("batches_per_epoch", 0)),
                finished=bool(data.get("finished", False)),
                best_epoch=None if data.get("best_epoch") is None else int(data["best_epoch"]),
                best_test_loss=None if data.get("best_test_loss") is None else float(data["best_test_loss"]),
                error=data.get("error"),
                updated=str(data.get("updated", "")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: {type(error).__name__}: {error}") from None
        if progress.best_epoch is not None and not 1 <= progress.best_epoch <= progress.epochs_done:
            raise ConfigError(f"{path}: best epoch {progress.best_epoch} is not one of the {progress.epochs_done} done")
        return progress


def read_progress(path: str | os.PathLike) -> Progress | None:
    """The record at ``path``; None when there is none yet."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    return Progress.from_dict(data, path)


def write_progress(path: str | os.PathLike, progress: Progress) -> None:
    atomic_write_json(path, progress.to_dict())
