"""``events.jsonl``: a run's events as JSON lines, written by its trainer and followed by anyone.

The trainer holding the lock starts a new file with each run and appends one line per
event, each in one ``write`` (readers never see half of a line that was written whole).
Progress is kept to about one line a second, so a ten-hour run writes a few MB; past
``MAX_BYTES`` the file starts again with a ``RunStarted`` that carries the history so far.

Readers take no lock. A reader keeps a line without its newline until the rest comes (a
writer killed mid-line leaves one forever), skips and counts lines it cannot read, and
starts over when the file is replaced or shrinks.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from savi_tui.core import events as ev
from savi_tui.core.atomic import TEMP_MARK

LOG_NAME = "events.jsonl"
PROGRESS_LOG_INTERVAL = 1.0  # seconds between the BatchProgress lines kept in the log
MAX_BYTES = 8 * 1024 * 1024


class RunLogWriter:
    """The trainer's side: ``write(event)`` for every event, in the training thread."""

    def __init__(
        self, path: str | os.PathLike, *, max_bytes: int = MAX_BYTES, progress_interval: float = PROGRESS_LOG_INTERVAL
    ) -> None:
        self.path = Path(path)
        self.max_bytes, self.progress_interval = max_bytes, progress_interval
        self._fd: int | None = None
        self._size = 0
        self._last_progress = 0.0
        self._started: ev.RunStarted | None = None
        self._history: list[ev.EpochRecord] = []
        self._best: int | None = None

    def start(self) -> None:
        """Begin the file anew, one per run: a new file (not a truncated one), so that a reader
        sees the change even when the new file has outgrown the old before it looks again."""
        self.close()
        self._fd, self._size = self._new_file(), 0

    def write(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._started, self._history, self._best = event, list(event.history), event.best_epoch
        elif isinstance(event, ev.BatchProgress):
            now = time.monotonic()
            if now - self._last_progress < self.progress_interval and event.batch < event.batches:
                return
            self._last_progress = now
        elif isinstance(event, ev.EpochFinished):
            self._history.append(event.record)
            self._best = event.best_epoch
        if self._fd is None:
            return
        try:
            if self._size > self.max_bytes and self._started is not None and isinstance(event, ev.BatchProgress):
                self._restart_with_history(event)
            self._append(event)
        except OSError:  # a full disk: the checkpoints say so; the log, only a view, stops here
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _restart_with_history(self, progress: ev.BatchProgress) -> None:
        """A file that grew too large starts again, with what a reader needs from the old one."""
        started = replace(
            self._started,
            history=tuple(self._history),
            best_epoch=self._best,
            start_epoch=progress.epoch,
            start_batch=progress.batch,
        )
        fd = self._new_file()
        self.close()
        self._fd, self._size = fd, 0
        self._append(started)

    def _new_file(self) -> int:
        replacement = self.path.with_name(f".{self.path.name}{TEMP_MARK}{os.getpid()}")  # swept if left
        fd = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        os.replace(replacement, self.path)
        return fd

    def _append(self, event: ev.Event) -> None:
        line = (json.dumps({"t": round(time.time(), 3), **ev.event_to_dict(event)}) + "\n").encode()
        os.write(self._fd, line)
        self._size += len(line)


@dataclass
class LogRead:
    """What one look at the log found since the last one."""

    events: list[ev.Event] = field(default_factory=list)
    restarted: bool = False  # the file was replaced or truncated: ``events`` start from its beginning
    bad_lines: int = 0  # lines that were not events (garbage, another program's, a damaged file)
    last_time: float | None = None  # the writer's clock at the newest line read


class RunLogReader:
    """Follows one ``events.jsonl`` from its beginning; ``read()`` returns what is new."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._partial = b""
        self.bad_lines = 0  # over the whole follow
        self.last_problem: str | None = None

    def read(self) -> LogRead:
        result = LogRead()
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                identity = (stat.st_dev, stat.st_ino)
                if identity != self._identity or stat.st_size < self._offset:
                    result.restarted = self._identity is not None
                    self._identity, self._offset, self._partial = identity, 0, b""
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return result
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()  # no newline yet: the rest is still being written, or never will be
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                result.last_time = float(record.pop("t"))
                result.events.append(ev.event_from_dict(record))
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                result.bad_lines += 1
                self.last_problem = f"{self.path.name}: a line is not an event ({str(error)[:80]})"
        self.bad_lines += result.bad_lines
        return result
