"""The experiment's writer lock, and who holds it.

An exclusive ``flock`` on ``.lock``, released by the OS when the holder dies, kill -9
included. The file names the holder: pid, host, and the process's start time, so that a
pid the system has since given to another process is never taken for the holder.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from savi_tui.core.errors import ExperimentLocked


def process_start(pid: int) -> str | None:
    """A token that differs between two processes that had the same pid (Linux: boot id and
    start time in clock ticks); None where the system does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) ": the name may hold spaces
    return f"{boot}:{fields[19]}"


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    started: str | None  # ``process_start(pid)`` when it took the lock
    since: str  # when it took the lock (UTC, ISO 8601)

    @classmethod
    def this_process(cls) -> LockHolder:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return cls(os.getpid(), socket.gethostname(), process_start(os.getpid()), now)

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), str(data["host"]), data.get("started"), str(data.get("since", "")))
        except (ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def describe(self) -> str:
        return f"pid {self.pid} host {self.host}"

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def is_alive_here(self) -> bool:
        """This host still runs the very process that took the lock (not another with its pid)."""
        return self.on_this_host and self.started is not None and process_start(self.pid) == self.started


class ExperimentLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ExperimentLocked(
                    f"experiment {self.path.parent.name} is being trained by {self.holder()}; "
                    "one training per experiment"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, (LockHolder.this_process().to_json() + "\n").encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder_info(self) -> LockHolder | None:
        """Who the file says holds the lock (it may be stale: check ``is_held``)."""
        try:
            return LockHolder.parse(self.path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def holder(self) -> str:
        info = self.holder_info()
        return info.describe() if info else "another process"

    def is_held(self) -> bool:
        """True while some process (this one included) holds the lock."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def __enter__(self) -> ExperimentLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
