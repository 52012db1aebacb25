"""The checkpoint payload (``status.pkl``, ``best.pkl``): its one definition and its checks.

The trainer saves a ``TrainState`` and resumes from one; the reliability tests build and
damage files through it. On disk it is a plain dict of tensors and Python values
(``to_payload``) that loads with ``weights_only=True``; ``from_payload`` refuses
anything else with one line naming the file and the fault.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from savi_tui.core.errors import CheckpointError
from savi_tui.core.events import EpochRecord, Position

FORMAT_VERSION = 1
KINDS = ("status", "best")
BEST_SELECTED_ON = "test set: lowest test loss so far (the course's rule)"

# key → accepted types, in the order the payload lists them
_KEYS: dict[str, tuple[type, ...]] = {
    "format_version": (int,),
    "kind": (str,),
    "model_name": (str,),
    "config": (dict,),
    "epoch_idx": (int,),
    "batch_idx": (int,),
    "train_losses": (list,),
    "test_losses": (list,),
    "history": (list,),
    "model_state_dict": (dict,),
    "optimizer_state_dict": (dict,),
    "scheduler_state_dict": (dict, type(None)),
    "rng_state": (dict,),
    "best_epoch_idx": (int, type(None)),
    "best_test_loss": (float, type(None)),
    "partial_epoch": (dict,),
}
_OPTIONAL = {"selected_on": (str,)}  # best.pkl says how it was chosen


@dataclass
class PartialEpoch:
    """The epoch in progress at a stop: its summed loss, examples seen, seconds trained."""

    loss_sum: float = 0.0
    count: int = 0
    seconds: float = 0.0


@dataclass
class TrainState:
    """A training at a batch boundary: where it stands and everything that continues it exactly."""

    model_name: str
    config: dict
    kind: str = "status"
    epoch_idx: int = -1  # the last complete epoch, 0-based (the course's key); -1 before the first
    batch_idx: int = 0  # batches done in the epoch after it
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch_idx: int | None = None
    best_test_loss: float | None = None
    partial_epoch: PartialEpoch = field(default_factory=PartialEpoch)
    model_state_dict: dict = field(default_factory=dict)
    optimizer_state_dict: dict = field(default_factory=dict)
    scheduler_state_dict: dict | None = None
    rng_state: dict = field(default_factory=dict)

    @property
    def train_losses(self) -> list[float]:
        return [r.train_loss for r in self.history]

    @property
    def test_losses(self) -> list[float]:
        return [r.test_loss for r in self.history]

    @property
    def epochs_done(self) -> int:
        return self.epoch_idx + 1

    @property
    def best_epoch(self) -> int | None:
        """1-based, as people count."""
        return None if self.best_epoch_idx is None else self.best_epoch_idx + 1

    def position(self, batches: int) -> Position:
        """Where this state stands, with ``batches`` per epoch."""
        return Position.after(self.epochs_done, self.batch_idx, batches)

    def to_payload(self) -> dict:
        payload = {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "model_name": self.model_name,
            "config": self.config,
            "epoch_idx": self.epoch_idx,
            "batch_idx": self.batch_idx,
            "train_losses": self.train_losses,
            "test_losses": self.test_losses,
            "history": [r.to_dict() for r in self.history],
            "model_state_dict": self.model_state_dict,
            "optimizer_state_dict": self.optimizer_state_dict,
            "scheduler_state_dict": self.scheduler_state_dict,
            "rng_state": self.rng_state,
            "best_epoch_idx": self.best_epoch_idx,
            "best_test_loss": self.best_test_loss,
            "partial_epoch": {
                "loss_sum": self.partial_epoch.loss_sum,
                "count": self.partial_epoch.count,
                "seconds": self.partial_epoch.seconds,
            },
        }
        if self.kind == "best":
            payload["selected_on"] = BEST_SELECTED_ON
        return payload

    @classmethod
    def from_payload(cls, payload, path: str | os.PathLike) -> TrainState:
        """The state a loaded payload holds; ``CheckpointError`` naming ``path`` for any fault."""
        check_payload(payload, path)
        try:  # the top level is checked; what lies inside can still be wrong
            partial = payload["partial_epoch"]
            state = cls(
                model_name=payload["model_name"],
                config=payload["config"],
                kind=payload["kind"],
                epoch_idx=payload["epoch_idx"],
                batch_idx=payload["batch_idx"],
                history=[EpochRecord.from_dict(r) for r in payload["history"]],
                best_epoch_idx=payload["best_epoch_idx"],
                best_test_loss=payload["best_test_loss"],
                partial_epoch=PartialEpoch(
                    float(partial["loss_sum"]), int(partial["count"]), float(partial.get("seconds", 0.0))
                ),
                model_state_dict=payload["model_state_dict"],
                optimizer_state_dict=payload["optimizer_state_dict"],
                scheduler_state_dict=payload["scheduler_state_dict"],
                rng_state=payload["rng_state"],
            )
            seconds = state.partial_epoch.seconds
            if not 0.0 <= seconds < math.inf:
                raise ValueError(f"partial epoch seconds {seconds}")
        except (KeyError, TypeError, ValueError) as error:
            raise state_error(path, error) from None
        if state.kind not in KINDS:
            raise CheckpointError(f"{path}: kind {state.kind!r} is not one of {', '.join(KINDS)}")
        return state


def state_error(path: str | os.PathLike, error: BaseException) -> CheckpointError:
    """The one line for a training state whose insides do not fit."""
    detail = " ".join(f"{type(error).__name__}: {error}".split())
    return CheckpointError(f"{path}: training state does not fit: {detail[:300]}")


def check_payload(payload, path: str | os.PathLike) -> None:
    """The top level: a dict of this format version, with exactly the known keys and types."""
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: not a savi-tui checkpoint (a {type(payload).__name__}, not a dict)")
    version = payload.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format version {version} is newer than this savi-tui reads ({FORMAT_VERSION}); upgrade savi-tui"
        )
    missing = [key for key in _KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: missing key(s) {', '.join(missing)}")
    unknown = sorted(map(str, set(payload) - set(_KEYS) - set(_OPTIONAL)))
    if unknown:
        raise CheckpointError(f"{path}: unknown key(s) {', '.join(unknown)}")
    for key, types in (*_KEYS.items(), *_OPTIONAL.items()):
        if key not in payload:
            continue
        value = payload[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join(t.__name__ for t in types)
            raise CheckpointError(f"{path}: key {key!r} must be {expected}, got {type(value).__name__}")
    if version < 1:
        raise CheckpointError(f"{path}: format version {version} is not valid")
