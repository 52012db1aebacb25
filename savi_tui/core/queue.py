"""The queue of planned runs: ``ROOT/.queue.json``, its one definition and its one way to change.

An ordered list of entries, each naming an experiment that already exists (its folder is made
when it is queued). Anyone may change it (the app, the CLI, the runner): every change is a
read-modify-write under an ``flock`` of its own (``ROOT/.queue.lock``) and an atomic write,
so two processes changing it at once lose nothing. Readers need no lock: the write is atomic.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.errors import ConfigError, ExperimentError
from savi_tui.core.lock import ExperimentLock

QUEUE_FILE = ".queue.json"
QUEUE_LOCK = ".queue.lock"
FORMAT_VERSION = 1

PLANNED, RUNNING, DONE, CANCELLED, FAILED, STOPPED = "planned", "running", "done", "cancelled", "failed", "stopped"
STATES = (PLANNED, RUNNING, DONE, CANCELLED, FAILED, STOPPED)
UNFINISHED = (PLANNED, RUNNING)  # what a runner still has to do
MOVES = ("up", "down", "first", "last")


@dataclass(frozen=True)
class QueueEntry:
    name: str  # the experiment's folder under the root
    state: str  # one of STATES
    added: str  # when it was queued (UTC, ISO 8601)
    group: str | None = None
    started: str | None = None  # when a runner last took it
    ended: str | None = None
    error: str | None = None  # why it failed

    @classmethod
    def from_dict(cls, data: dict) -> QueueEntry:
        entry = cls(**{key: data.get(key) for key in ("name", "state", "added", "group", "started", "ended", "error")})
        if not isinstance(entry.name, str) or entry.state not in STATES or not isinstance(entry.added, str):
            raise ValueError(f"bad queue entry {data!r}")
        return entry


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunQueue:
    """The queue of one experiments root."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / QUEUE_FILE
        self.lock_path = self.root / QUEUE_LOCK

    # -- reading -------------------------------------------------------------

    def entries(self) -> list[QueueEntry]:
        """The entries in order; an absent file is an empty queue."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise ConfigError(f"{self.path}: unreadable queue ({error})") from None
        try:
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"format version {data.get('version')!r}, expected {FORMAT_VERSION}")
            return [QueueEntry.from_dict(item) for item in data["entries"]]
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"{self.path}: not a queue file ({error})") from None

    def planned_names(self) -> set[str]:
        """The names waiting for a runner (for the experiment list); a damaged file counts as empty."""
        try:
            return {entry.name for entry in self.entries() if entry.state == PLANNED}
        except ConfigError:
            return set()

    def has_unfinished(self) -> bool:
        try:
            return any(entry.state in UNFINISHED for entry in self.entries())
        except ConfigError:
            return False

    # -- changing, each under the queue's lock -------------------------------

    @contextmanager
    def editing(self) -> Iterator[list[QueueEntry]]:
        """The entries to change in place; written back atomically when the block ends without error."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits: every holder keeps it for a read and a write only
            entries = self.entries()
            before = list(entries)
            yield entries
            if entries != before:
                atomic_write_json(self.path, {"version": FORMAT_VERSION, "entries": [asdict(e) for e in entries]})
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def add(self, names: list[str], group: str | None = None) -> None:
        """Queue ``names`` at the end, in order. One that was cancelled, stopped or failed is queued anew."""
        with self.editing() as entries:
            for name in names:
                index = _find(entries, name)
                earlier = None
                if index is not None:
                    if entries[index].state in UNFINISHED:
                        raise ExperimentError(f"{name} is already in the queue ({entries[index].state})")
                    earlier = entries.pop(index).group
                entries.append(QueueEntry(name, PLANNED, now(), group or earlier))

    def cancel(self, name: str) -> None:
        """A planned run leaves the queue's work (its experiment folder stays)."""
        with self.editing() as entries:
            index = _required(entries, name)
            if entries[index].state != PLANNED:
                hint = f"; stop it with: savi-tui stop {name}" if entries[index].state == RUNNING else ""
                raise ExperimentError(f"{name} is {entries[index].state}, not planned: nothing to cancel{hint}")
            entries[index] = replace(entries[index], state=CANCELLED, ended=now())

    def forget(self, name: str) -> None:
        """Drop ``name``'s entry, for an experiment being deleted under its lock: no runner trains it,
        and one that has just taken it finds its folder gone."""
        with self.editing() as entries:
            entries[:] = [entry for entry in entries if entry.name != name]

    def move(self, name: str, where: str) -> None:
        """Move a planned run ``up`` or ``down`` past the next planned one, or ``first``/``last`` of them."""
        if where not in MOVES:
            raise ConfigError(f"unknown move {where!r}; choose one of: {', '.join(MOVES)}")
        with self.editing() as entries:
            index = _required(entries, name)
            if entries[index].state != PLANNED:
                raise ExperimentError(f"{name} is {entries[index].state}, not planned: only planned runs move")
            planned = [i for i, entry in enumerate(entries) if entry.state == PLANNED]
            order = [entries[i] for i in planned]  # the planned runs keep their slots; their order changes
            rank = planned.index(index)
            target = {"up": rank - 1, "down": rank + 1, "first": 0, "last": len(order) - 1}[where]
            order.insert(min(max(target, 0), len(order) - 1), order.pop(rank))
            for slot, entry in zip(planned, order, strict=True):
                entries[slot] = entry

    def take_next(self, when_empty: Callable[[], None] | None = None) -> QueueEntry | None | bool:
        """For the runner: the next run to train, marked running. An entry left running by a runner
        that died comes first; a run whose experiment another process trains is skipped.

        Returns None when nothing is left to do (after calling ``when_empty`` under the queue's
        lock, so that whoever queues a run after this sees the runner gone), False when every run
        left is being trained elsewhere (try again later).
        """
        with self.editing() as entries:
            order = [i for i, e in enumerate(entries) if e.state == RUNNING]
            order += [i for i, e in enumerate(entries) if e.state == PLANNED]
            if not order:
                if when_empty is not None:
                    when_empty()
                return None
            for index in order:
                if not ExperimentLock(self.root / entries[index].name / ".lock").is_held():
                    entries[index] = replace(entries[index], state=RUNNING, started=now(), ended=None, error=None)
                    return entries[index]
            return False

    def mark(self, name: str, state: str, error: str | None = None) -> None:
        """The runner's verdict on a run it took: done, failed, stopped, or planned again; nothing
        for a run whose experiment was deleted meanwhile (``forget``)."""
        with self.editing() as entries:
            index = _find(entries, name)
            if index is None:
                return
            ended = None if state in UNFINISHED else now()
            entries[index] = replace(entries[index], state=state, ended=ended, error=error)


def _find(entries: list[QueueEntry], name: str) -> int | None:
    return next((i for i, entry in enumerate(entries) if entry.name == name), None)


def _required(entries: list[QueueEntry], name: str) -> int:
    index = _find(entries, name)
    if index is None:
        raise ExperimentError(f"{name} is not in the queue")
    return index
