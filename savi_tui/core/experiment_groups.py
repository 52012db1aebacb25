"""Experiments that share config.json's "group" (one per seed) gathered into one ``GroupInfo`` (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from savi_tui.core.group_stats import Spread, spread

# The state a group shows when its members differ: the one that most needs the user's eye.
_STATE_PRIORITY = ("running", "corrupt", "interrupted", "queued", "complete")


def group_of(info) -> str | None:
    group = info.config.get("group") if isinstance(info.config, dict) else None
    return group if isinstance(group, str) and group else None


def best_accuracy(info) -> float | None:
    """Test accuracy of the best epoch (the lowest test loss)."""
    return info.history[info.best_epoch - 1].test_accuracy if info.best_epoch else None


@dataclass
class GroupInfo:
    """The members of a group and their figures; it sorts by the same keys as an ``ExperimentInfo``
    (``best_test_loss`` and ``f1`` are the members' means)."""

    name: str
    members: list = field(default_factory=list)

    def __post_init__(self) -> None:
        finished = [m for m in self.members if m.best_epoch]
        self.accuracy: Spread | None = spread(best_accuracy(m) for m in finished)
        self.f1_spread: Spread | None = spread(m.f1 for m in finished if m.f1 is not None)
        self.loss_spread: Spread | None = spread(m.best_test_loss for m in finished if m.best_test_loss is not None)
        self.best_test_loss = self.loss_spread.mean if self.loss_spread else None
        self.f1 = self.f1_spread.mean if self.f1_spread else None
        self.best_epoch = None
        self.epochs_done = min((m.epochs_done for m in self.members), default=0)
        self.epochs_planned = max((m.epochs_planned for m in self.members), default=0)
        self.modified = max((m.modified for m in self.members), default=0.0)
        states = {str(m.state) for m in self.members}
        self.state = next((s for s in _STATE_PRIORITY if s in states), min(states, default="complete"))
        self.mixed_state = len(states) > 1
        self.model = _common(m.model for m in self.members)
        self.dataset = _common(m.dataset for m in self.members)

    @property
    def n(self) -> int:
        return len(self.members)

    def state_text(self) -> str:
        """ "complete", or "running 1/3" when its members are not all alike."""
        if not self.mixed_state:
            return self.state
        return f"{self.state} {sum(str(m.state) == self.state for m in self.members)}/{self.n}"


def _common(values) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else "mixed"


def gather_groups(infos: list) -> tuple[list, dict[str, GroupInfo]]:
    """(the experiments in no group, the groups by name), each group's members in name order."""
    loose, members = [], {}
    for info in infos:
        group = group_of(info)
        if group is None:
            loose.append(info)
        else:
            members.setdefault(group, []).append(info)
    groups = {name: GroupInfo(name, sorted(found, key=lambda i: i.name)) for name, found in members.items()}
    return loose, groups
