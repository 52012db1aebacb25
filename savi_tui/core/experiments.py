"""One folder per experiment: naming, listing, the writer's lock, and state.

Files in a folder (each has one writer, the trainer holding the lock, and every
write is atomic): ``config.json``, ``progress.json``, ``status.pkl``,
``best.pkl`` (with ``.sha256`` checksums and ``.prev`` fallbacks),
``statistics.json``, ``training.png``, ``summary.txt``, ``model.onnx``.
Readers such as ``list_experiments`` never take the lock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.checkpoint import checksum_path
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import CheckpointError, ConfigError, ExperimentError
from savi_tui.core.events import EpochRecord, Position
from savi_tui.core.lock import ExperimentLock, LockHolder
from savi_tui.core.progress import Progress, read_progress
from savi_tui.core.queue import QUEUE_FILE, RunQueue
from savi_tui.core.verified import IDENTITY, VerifiedRecord, file_identity

EXPERIMENTS_ENV = "SAVI_EXPERIMENTS"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class ExperimentState(str, Enum):
    """What an experiment folder says about its training; compares and serialises as its string."""

    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    RUNNING = "running"  # some process holds the lock
    CORRUPT = "corrupt"
    QUEUED = "queued"  # waiting in the root's queue (core/queue.py) for the runner

    __str__ = str.__str__  # "complete", not "ExperimentState.COMPLETE", in f-strings and str()
    __format__ = str.__format__


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
    events_path = property(lambda self: self.path / "events.jsonl")
    background_log_path = property(lambda self: self.path / "train.log")  # what a background run prints

    def read_config(self) -> TrainConfig:
        return TrainConfig.from_dict(_read_json(self.config_path))

    def listed_files(self) -> list[Path]:
        """The files a listing reads or verifies, and those written in place (appended logs); a
        scan of the root stats only these: every other file is written by a rename, which moves
        the folder's own time."""
        checkpoints = (self.status_path, self.best_path)
        logs = (self.lock_path, self.events_path, self.background_log_path)
        return [self.config_path, self.progress_path, *logs, *checkpoints] + [checksum_path(p) for p in checkpoints]

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_json(self.config_path, config.to_dict())

    def read_progress(self) -> Progress | None:
        return read_progress(self.progress_path)

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
    except OSError as error:  # a folder or file this user may not read, a failing disk
        raise ExperimentError(f"{path}: cannot be read ({error.strerror or error})") from None


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
        if (Path(root) / QUEUE_FILE).exists():
            RunQueue(root).forget(name)  # else the runner would take it later, and fail
        for entry in sorted(experiment.path.iterdir()):
            if entry.name != ".lock":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(experiment.path)


@dataclass
class ExperimentInfo:
    """What the browser and ``savi-tui list`` show for one experiment."""

    name: str
    path: Path
    state: str  # an ExperimentState value
    model: str = "?"
    dataset: str = "?"
    epochs_done: int = 0
    epochs_planned: int = 0
    batch_idx: int = 0  # batches done in the next epoch, when stopped mid-epoch
    batches_per_epoch: int = 0  # 0 when progress.json does not say
    best_epoch: int | None = None
    best_test_loss: float | None = None
    f1: float | None = None  # global F1 of the best epoch
    modified: float = 0.0
    problem: str | None = None  # why it is corrupt, or what failed last
    config: dict = field(default_factory=dict)
    history: list[EpochRecord] = field(default_factory=list)
    holder: LockHolder | None = None  # who trains it, while running
    last_report: float | None = None  # when its trainer last wrote an event (a time stamp)
    verified: bool = False  # its checkpoints' checksums were checked (verify_checkpoints)

    @property
    def position(self) -> Position:
        return Position.after(self.epochs_done, self.batch_idx, self.batches_per_epoch)


def read_experiment_info(path: str | os.PathLike, *, verify: bool = True, scan: tuple | None = None) -> ExperimentInfo:
    """Never raises for a bad folder: a damaged experiment comes back as 'corrupt'.

    ``verify=False`` leaves the checkpoints' checksums to ``verify_checkpoints``; ``scan``: the
    folder's ``folder_signature`` entry, when the caller has just taken it."""
    experiment = Experiment(path)
    info = ExperimentInfo(name=experiment.name, path=experiment.path, state="interrupted")
    info.modified = _modified(scan or _scan_folder(experiment.path))
    try:
        config = experiment.read_config()
        info.config = config.to_dict()
        info.model, info.dataset, info.epochs_planned = config.model, config.dataset, config.epochs
        progress = experiment.read_progress() or Progress(epochs_planned=config.epochs)
        info.history = list(progress.history)
        info.epochs_done = progress.epochs_done
        info.batch_idx, info.batches_per_epoch = progress.batch_idx, progress.batches_per_epoch
        info.best_epoch, info.best_test_loss = progress.best_epoch, progress.best_test_loss
        info.problem = progress.error
        info.f1 = progress.best.f1 if progress.best else None
    except (ExperimentError, ConfigError, KeyError, TypeError, ValueError, IndexError) as error:
        info.state, info.problem = "corrupt", str(error)
        return info
    if experiment.is_running():
        info.state = "running"
        info.holder = experiment.lock().holder_info()
        try:
            info.last_report = experiment.events_path.stat().st_mtime
        except OSError:
            pass
        return info
    if progress.finished and info.epochs_done >= info.epochs_planned:
        info.state = "complete"
    return verify_checkpoints(info) if verify else info


def verify_checkpoints(info: ExperimentInfo, record: VerifiedRecord | None = None) -> ExperimentInfo:
    """``info``, or a copy that says 'corrupt' when one of its checkpoints fails its checksum
    (``record`` spares the hashing of those that verified before)."""
    record = record or VerifiedRecord(info.path.parent)
    try:
        for checkpoint in _checkpoints(info):
            record.check_intact(checkpoint)
    except CheckpointError as error:
        return replace(info, state=ExperimentState.CORRUPT.value, problem=str(error), verified=True)
    info.verified = True
    return info


def _checkpoints(info: ExperimentInfo, scanned: dict | None = None) -> list[str]:
    """The checkpoints to verify: none of a running training, whose files are its own to replace,
    nor of a folder already known to be corrupt. ``scanned``: the folder's files as a scan found
    them, else they are looked for."""
    if info.state in (ExperimentState.RUNNING, ExperimentState.CORRUPT):
        return []
    folder = os.fspath(info.path)  # strings: a thousand Paths were half of a listing's check
    paths = [os.path.join(folder, name) for name in _CHECKPOINT_NAMES]
    if scanned is not None:
        return [path for path in paths if os.path.basename(path) in scanned]
    return [path for path in paths if os.path.exists(path)]


_MTIME = IDENTITY.index("st_mtime_ns")


def _modified(scan: tuple) -> float:
    """The latest change of a folder from its ``folder_signature`` entry: the folder's own time or
    its newest listed file's (a symlink counts by itself, dangling or not); 0 for a vanished folder."""
    _, folder_ns, files = scan
    return max([folder_ns or 0, *(identity[_MTIME] for _, identity in files or () if identity)]) / 1e9


def list_experiments(
    root: str | os.PathLike | None = None,
    *,
    verify: bool = True,
    unchanged: dict | None = None,
    signature: tuple | None = None,
) -> list[ExperimentInfo]:
    """Every experiment under ``root``, by name; ``verify=False`` skips the checkpoints' checksums,
    for a list shown at once and verified after (``verify_all``). ``unchanged``: the infos, by
    name, of folders known not to have changed since they were read (``unchanged_folders``),
    taken as they are. ``signature``: the root's ``folder_signature`` the caller has just taken,
    whose folders are the ones listed (else it is taken here)."""
    root = Path(root) if root is not None else default_experiments_root()
    if not root.is_dir():
        return []
    signature = signature if signature is not None else folder_signature(root)
    scans = [scan for scan in signature if _is_experiment(scan)]
    unchanged = unchanged or {}
    infos = [unchanged.get(scan[0]) or read_experiment_info(root / scan[0], verify=False, scan=scan) for scan in scans]
    queued = RunQueue(root).planned_names()  # read once for the whole listing
    for info in infos:
        if info.name in queued and info.state == ExperimentState.INTERRUPTED and info.name not in unchanged:
            info.state = ExperimentState.QUEUED.value
    return verify_all(root, infos, signature) if verify else infos


NOT_EXPERIMENTS = frozenset({"lost+found"})  # what a root that is a file system's top folder holds


def _is_experiment(scan: tuple) -> bool:
    """A folder with a config.json, or one that cannot be read (listed as corrupt, saying why);
    not one that vanished meanwhile."""
    name, folder_ns, files = scan
    if not name or name.startswith(".") or name in NOT_EXPERIMENTS or folder_ns is None:
        return False
    return files is None or any(file == "config.json" for file, _ in files)


def verify_all(
    root: str | os.PathLike, infos: list[ExperimentInfo], signature: tuple = (), *, hash_unknown: bool = True
) -> list[ExperimentInfo]:
    """``verify_checkpoints`` of each of ``root``'s listed experiments not verified yet, and the
    verdicts recorded for the next listing. Those the record does not know are hashed on every
    usable CPU (hashing runs without the GIL), or left unverified without ``hash_unknown``; the
    others cost nothing when ``signature``, the listing's ``folder_signature``, saw them as they
    verified, else a stat."""
    from concurrent.futures import ThreadPoolExecutor

    from savi_tui.core.device import available_cpus

    scanned = {folder: dict(files or ()) for folder, _, files in signature if folder}
    if not hash_unknown:
        _not_known(VerifiedRecord(root, scanned), infos, scanned)
        return list(infos)
    verified = list(infos)
    with _hashing:  # one pass at a time: the next takes what this one recorded, as on a reload during a first hashing
        record = VerifiedRecord(root, scanned)
        unknown = _not_known(record, infos, scanned)
        if unknown:
            with ThreadPoolExecutor(max_workers=min(available_cpus(), len(unknown))) as pool:
                found = pool.map(lambda i: verify_checkpoints(infos[i], record), unknown)
                for index, info in zip(unknown, found, strict=True):
                    verified[index] = info
        record.save({info.name for info in infos})
    return verified


_hashing = threading.Lock()


def _not_known(record: VerifiedRecord, infos: list, scanned: dict) -> list[int]:
    """Marks verified the ``infos`` whose checkpoints ``record`` knows; the indices of the others."""
    unknown = []
    for index, info in enumerate(infos):
        if info.verified or all(map(record.known, _checkpoints(info, scanned.get(info.name)))):
            info.verified = True
        else:
            unknown.append(index)
    return unknown


def latest_resumable(root: str | os.PathLike | None = None) -> str | None:
    """The most recently modified interrupted experiment whose checkpoints verify, for a bare ``-rt``
    (verified newest first, and none of it recorded: a refused ``-rt`` changes no file)."""
    candidates = [info for info in list_experiments(root, verify=False) if info.state == "interrupted"]
    for info in sorted(candidates, key=lambda info: info.modified, reverse=True):
        if verify_checkpoints(info).state == "interrupted":
            return info.name
    return None


def unchanged_folders(before: tuple, now: tuple) -> set[str]:
    """The experiment folders whose entry is the same in two ``folder_signature``s; none when the
    queue changed, as it may change any experiment's state."""
    queue_before = [entry for entry in before if entry[0] == ""]
    if queue_before != [entry for entry in now if entry[0] == ""]:
        return set()
    same = set(before) & set(now)
    return {entry[0] for entry in same if entry[0] and entry[1] is not None}


LISTED_FILES = frozenset(path.name for path in Experiment("x").listed_files())
_CHECKPOINT_NAMES = (Experiment("x").status_path.name, Experiment("x").best_path.name)


def folder_signature(root: str | os.PathLike) -> tuple:
    """Names and modification times of the experiment folders, and the identities (as
    ``.verified.json`` knows files by) of their ``LISTED_FILES``, in name order: a cheap change
    check, and the scan a listing reads the folders from and verifies their checkpoints by."""
    signature = []
    try:  # the queue says which experiments are queued
        signature.append(("", os.stat(Path(root) / QUEUE_FILE).st_mtime_ns, ()))
    except OSError:
        pass
    try:
        folders = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return ()
    signature += [_scan_folder(folder) for folder in folders if folder.is_dir()]
    return tuple(signature)


def _scan_folder(folder: os.DirEntry | Path) -> tuple:
    """(name, the folder's mtime_ns, ((file, identity), ...) in name order); (name, None, ()) for a
    folder deleted or renamed meanwhile, and (name, mtime_ns, None) for one that cannot be read. A
    file that vanishes meanwhile (a temp file being renamed by a running training) is left out; one
    whose stat fails otherwise keeps its name, with None for an identity, so that reading or
    verifying it says why."""
    folder_ns = 0
    try:
        folder_ns = folder.stat().st_mtime_ns
        entries = [entry for entry in os.scandir(folder) if entry.name in LISTED_FILES]
    except FileNotFoundError:
        return (folder.name, None, ())
    except OSError:
        return (folder.name, folder_ns, None)
    files = []  # a stat is most of a scan's time: only of the files that tell the listing something
    for entry in entries:
        try:
            files.append((entry.name, file_identity(entry.stat(follow_symlinks=False))))
        except FileNotFoundError:
            pass
        except OSError:
            files.append((entry.name, None))
    return (folder.name, folder_ns, tuple(sorted(files, key=lambda file: file[0])))
