"""Events a training run emits, as plain frozen dataclasses, and their one JSON form.

The trainer calls ``on_event(event)`` from whatever thread it runs in. The CLI draws a
progress bar from them; the app wraps them in a Textual message. ``event_to_dict`` and
``event_from_dict`` are the form an event has outside the process (a log another process
reads). Every epoch number an event carries is 1-based, as people count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch, as stored in ``progress.json`` and shown in tables."""

    epoch: int  # 1-based
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
class Position:
    """Where a run stands: ``batch`` of the ``batches`` of (1-based) ``epoch`` are done.

    At an epoch boundary it is the end of the epoch just finished (``batch == batches``);
    with ``batches`` unknown (0), the start of the next one."""

    epoch: int
    batch: int
    batches: int

    @classmethod
    def after(cls, epochs_done: int, batch: int, batches: int) -> Position:
        """From what a checkpoint counts: complete epochs, and batches done in the next."""
        if batch == 0 and epochs_done > 0 and batches > 0:
            return cls(epochs_done, batches, batches)
        return cls(epochs_done + 1, batch, batches)

    @property
    def epochs_done(self) -> int:
        return self.epoch if self.at_epoch_end else self.epoch - 1

    @property
    def at_epoch_end(self) -> bool:
        return self.batches > 0 and self.batch >= self.batches

    def describe(self) -> str:
        """ "in epoch 1 at batch 36 of 94", "at the end of epoch 3", "at the start of epoch 1"."""
        if self.at_epoch_end:
            return f"at the end of epoch {self.epoch}"
        if self.batch == 0:
            return f"at the start of epoch {self.epoch}"
        of = f" of {self.batches}" if self.batches else ""
        return f"in epoch {self.epoch} at batch {self.batch}{of}"

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Position:
        return cls(int(data["epoch"]), int(data["batch"]), int(data["batches"]))


@dataclass(frozen=True)
class RunStarted:
    experiment: str
    model: str
    device: str
    epochs: int
    start_epoch: int  # the epoch the run continues with
    start_batch: int  # batches already done in that epoch (resume mid-epoch)
    batches_per_epoch: int
    train_size: int
    test_size: int
    history: tuple[EpochRecord, ...] = ()  # earlier epochs, non-empty on resume
    best_epoch: int | None = None


@dataclass(frozen=True)
class BatchProgress:
    epoch: int
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
    position: Position


@dataclass(frozen=True)
class BestUpdated:
    path: str
    epoch: int
    test_loss: float


@dataclass(frozen=True)
class Stopped:
    """The run stopped on request at a batch boundary, and its state is saved."""

    position: Position
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
EVENT_TYPES = {cls.__name__: cls for cls in Event.__args__}
# fields that hold another dataclass: how each comes back from its JSON form
_NESTED = {
    "record": EpochRecord.from_dict,
    "position": Position.from_dict,
    "history": lambda records: tuple(EpochRecord.from_dict(r) for r in records),
}


class EventFormatError(ValueError):
    """A dict that is not the JSON form of any event."""


def event_to_dict(event: Event) -> dict:
    """The event as JSON-safe values, its type under ``"event"``."""
    data = {"event": type(event).__name__}
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name in _NESTED:
            value = [r.to_dict() for r in value] if f.name == "history" else value.to_dict()
        data[f.name] = value
    return data


def event_from_dict(data: dict) -> Event:
    """The event ``event_to_dict`` gave; ``EventFormatError`` for anything else."""
    if not isinstance(data, dict) or data.get("event") not in EVENT_TYPES:
        kind = data.get("event") if isinstance(data, dict) else type(data).__name__
        raise EventFormatError(f"not a training event ({kind!r})")
    cls = EVENT_TYPES[data["event"]]
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k != "event"}
    if not set(values) <= names:
        raise EventFormatError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(set(values) - names))}")
    try:
        return cls(**{k: _NESTED[k](v) if k in _NESTED else v for k, v in values.items()})
    except (KeyError, TypeError, ValueError) as error:
        raise EventFormatError(f"{cls.__name__}: {type(error).__name__}: {error}") from None
