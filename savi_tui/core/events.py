"""Events a training run emits, as plain frozen dataclasses.

The trainer calls ``on_event(event)`` from whatever thread it runs in. The CLI
draws a progress bar from them; the app wraps them in a Textual message.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch, as stored in ``progress.json`` and shown in tables."""

    epoch: int  # 1-based, as users count
    train_loss: float
    test_loss: float
    test_accuracy: float
    f1: float  # global (micro) F1 on the test set
    seconds: float  # wall time of training + evaluation

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> EpochRecord:
        return cls(
            epoch=int(data["epoch"]),
            train_loss=float(data["train_loss"]),
            test_loss=float(data["test_loss"]),
            test_accuracy=float(data["test_accuracy"]),
            f1=float(data["f1"]),
            seconds=float(data["seconds"]),
        )


@dataclass(frozen=True)
class RunStarted:
    experiment: str
    model: str
    device: str
    epochs: int
    start_epoch: int  # 1-based epoch the run continues with
    start_batch: int  # batches already done in that epoch (resume mid-epoch)
    batches_per_epoch: int
    train_size: int
    test_size: int
    history: tuple[EpochRecord, ...] = ()  # earlier epochs, non-empty on resume
    best_epoch: int | None = None


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    loss: float  # mean loss of the batches since the previous BatchProgress
    images_per_second: float


@dataclass(frozen=True)
class EpochFinished:
    record: EpochRecord
    is_best: bool
    best_epoch: int | None


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    epoch: int  # last complete epoch (1-based; 0 before the first)
    batch: int  # batches done in the next epoch (0 at an epoch boundary)


@dataclass(frozen=True)
class BestUpdated:
    path: str
    epoch: int
    test_loss: float


@dataclass(frozen=True)
class Stopped:
    """The run stopped on request at a batch boundary, and its state is saved."""

    epoch: int  # last complete epoch
    batch: int  # batches done in the epoch after it
    resume_command: str


@dataclass(frozen=True)
class Finished:
    epochs: int
    best_epoch: int | None
    best_test_loss: float | None
    statistics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    error: str  # one line a user can act on


@dataclass(frozen=True)
class Message:
    """Something worth a line in a log (e.g. a checkpoint fallback was used)."""

    text: str


Event = (
    RunStarted | BatchProgress | EpochFinished | CheckpointSaved | BestUpdated | Stopped | Finished | Failed | Message
)
