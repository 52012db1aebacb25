"""One folder per experiment: naming, listing, the writer's lock, and state.

Files in a folder (each has one writer, the trainer holding the lock, and every
write is atomic): ``config.json``, ``progress.json``, ``status.pkl``,
``best.pkl`` (with ``.sha256`` checksums and ``.prev`` fallbacks),
``statistics.json``, ``training.png``, ``summary.txt``, ``model.onnx``.
Readers such as ``list_experiments`` never take the lock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import CheckpointError, ConfigError, ExperimentError, ExperimentLocked
from savi_tui.core.events import EpochRecord

EXPERIMENTS_ENV = "SAVI_EXPERIMENTS"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

STATES = ("complete", "interrupted", "running", "corrupt")


def default_experiments_root() -> Path:
    return Path(os.environ.get(EXPERIMENTS_ENV) or Path.home() / "data" / "savi_experiments")


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ExperimentError(
            f"invalid experiment name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, without '/' or '..'"
        )
    return name


def generate_name(model: str, root: str | os.PathLike, now: datetime | None = None) -> str:
    """Readable, sortable and unique: ``2026-11-27_153012_ModelConvNet``."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    base = f"{stamp}_{model}"
    name, counter = base, 2
    while (Path(root) / name).exists():
        name, counter = f"{base}-{counter}", counter + 1
    return name


class Experiment:
    """Paths and small readers for one experiment folder."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.name = self.path.name

    config_path = property(lambda self: self.path / "config.json")
    progress_path = property(lambda self: self.path / "progress.json")
    status_path = property(lambda self: self.path / "status.pkl")
    best_path = property(lambda self: self.path / "best.pkl")
    statistics_path = property(lambda self: self.path / "statistics.json")
    plot_path = property(lambda self: self.path / "training.png")
    summary_path = property(lambda self: self.path / "summary.txt")
    onnx_path = property(lambda self: self.path / "model.onnx")
    lock_path = property(lambda self: self.path / ".lock")

    def read_config(self) -> TrainConfig:
        return TrainConfig.from_dict(_read_json(self.config_path))

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_json(self.config_path, config.to_dict())

    def read_progress(self) -> dict | None:
        if not self.progress_path.exists():
            return None
        return _read_json(self.progress_path)

    def read_statistics(self) -> dict | None:
        if not self.statistics_path.exists():
            return None
        return _read_json(self.statistics_path)

    def lock(self) -> ExperimentLock:
        return ExperimentLock(self.lock_path)

    def is_running(self) -> bool:
        return ExperimentLock(self.lock_path).is_held()

    def __repr__(self) -> str:
        return f"Experiment({str(self.path)!r})"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None


class ExperimentLock:
    """An exclusive ``flock`` on ``.lock``: released by the OS when the holder dies,
    kill -9 included. The file says who holds it (pid and host)."""

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
        os.write(fd, f"pid {os.getpid()} host {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"

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


def create_experiment(root: str | os.PathLike, name: str, config: TrainConfig) -> Experiment:
    """Make the folder and write ``config.json``; an existing one is never touched."""
    validate_name(name)
    config.validate()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        (root / name).mkdir()
    except FileExistsError:
        raise ExperimentError(
            f"experiment {name!r} already exists in {root}; choose another name or resume it"
        ) from None
    experiment = Experiment(root / name)
    experiment.write_config(config)
    return experiment


def open_experiment(root: str | os.PathLike, name: str) -> Experiment:
    validate_name(name)
    path = Path(root) / name
    if not (path / "config.json").is_file():
        raise ExperimentError(f"no experiment {name!r} in {root}")
    return Experiment(path)


def delete_experiment(root: str | os.PathLike, name: str) -> None:
    experiment = open_experiment(root, name)
    lock = experiment.lock()
    with lock:  # refuses while a training holds it, and keeps one from starting
        for entry in sorted(experiment.path.iterdir()):
            if entry.name != ".lock":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(experiment.path)


@dataclass
class ExperimentInfo:
    """What the browser and ``savi-tui list`` show for one experiment."""

    name: str
    path: Path
    state: str  # one of STATES
    model: str = "?"
    dataset: str = "?"
    epochs_done: int = 0
    epochs_planned: int = 0
    batch_idx: int = 0  # batches done in the next epoch, when stopped mid-epoch
    best_epoch: int | None = None
    best_test_loss: float | None = None
    f1: float | None = None  # global F1 of the best epoch
    modified: float = 0.0
    problem: str | None = None  # why it is corrupt, or what failed last
    config: dict = field(default_factory=dict)
    history: list[EpochRecord] = field(default_factory=list)


def read_experiment_info(path: str | os.PathLike) -> ExperimentInfo:
    """Never raises for a bad folder: a damaged experiment comes back as 'corrupt'."""
    from savi_tui.core.checkpoint import verify_checksum

    experiment = Experiment(path)
    info = ExperimentInfo(name=experiment.name, path=experiment.path, state="interrupted")
    info.modified = _newest_mtime(experiment.path)
    try:
        config = experiment.read_config()
        info.config = config.to_dict()
        info.model, info.dataset, info.epochs_planned = config.model, config.dataset, config.epochs
        progress = experiment.read_progress() or {}
        if not isinstance(progress, dict):
            raise ConfigError(f"{experiment.progress_path}: not a JSON object")
        info.history = [EpochRecord.from_dict(r) for r in progress.get("history", [])]
        info.epochs_done = len(info.history)
        info.batch_idx = int(progress.get("batch_idx", 0))
        info.best_epoch = progress.get("best_epoch")
        info.best_test_loss = progress.get("best_test_loss")
        info.problem = progress.get("error")
        if info.best_epoch:
            info.f1 = info.history[info.best_epoch - 1].f1
    except (ExperimentError, ConfigError, KeyError, TypeError, ValueError, IndexError) as error:
        info.state, info.problem = "corrupt", str(error)
        return info
    if experiment.is_running():
        info.state = "running"
        return info
    try:
        for checkpoint in (experiment.status_path, experiment.best_path):
            if checkpoint.exists():
                verify_checksum(checkpoint)
    except CheckpointError as error:
        info.state, info.problem = "corrupt", str(error)
        return info
    if progress.get("finished") and info.epochs_done >= info.epochs_planned:
        info.state = "complete"
    return info


def _newest_mtime(folder: Path) -> float:
    """The folder's latest change; an entry that vanishes meanwhile (a temp file being renamed by a
    running training) is skipped, and a symlink counts by itself, dangling or not."""
    times = [folder.stat().st_mtime]
    for entry in os.scandir(folder):
        try:
            times.append(entry.stat(follow_symlinks=False).st_mtime)
        except FileNotFoundError:
            pass
    return max(times)


def list_experiments(root: str | os.PathLike | None = None) -> list[ExperimentInfo]:
    root = Path(root) if root is not None else default_experiments_root()
    if not root.is_dir():
        return []
    return [
        read_experiment_info(entry)
        for entry in sorted(root.iterdir())
        if entry.is_dir() and not entry.name.startswith(".") and (entry / "config.json").exists()
    ]


def latest_resumable(root: str | os.PathLike | None = None) -> str | None:
    """The most recently modified interrupted experiment, for a bare ``-rt``."""
    candidates = [info for info in list_experiments(root) if info.state == "interrupted"]
    return max(candidates, key=lambda info: info.modified).name if candidates else None
