"""Checkpoint files: atomic, checksummed, loaded with ``weights_only=True`` only.

What a checkpoint holds is defined in ``train_state``; this module is the file. Beside
each ``X.pkl`` lies ``X.pkl.sha256``, the checksums the file may have. A save runs in three
atomic steps, so a kill at any moment leaves a file that verifies, old or new:

1. the checksum file lists the new checksum and the current file's,
2. the data file is replaced,
3. the checksum file is rewritten with the new checksum alone (written last).

``keep_previous`` first moves the current good file to ``X.prev.pkl`` by the
same protocol, so a file damaged later on disk has a fallback.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from savi_tui.core.atomic import atomic_link, atomic_write_bytes, atomic_write_text
from savi_tui.core.errors import CheckpointError, first_line
from savi_tui.core.train_state import TrainState

CHECKSUM_SUFFIX = ".sha256"


def checksum_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def previous_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_of(path.read_bytes())
    except FileNotFoundError:
        return None


def read_checksums(path: str | os.PathLike) -> list[str]:
    """The checksums ``path`` may have; none when its checksum file is missing or not text."""
    try:
        return checksum_path(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return []


def _replace_verified(
    path: Path, digest: str, *, data: bytes | None = None, link_from: Path | None = None, current: str | None = None
) -> None:
    current = current or _file_sha256(path)
    if current not in read_checksums(path):
        current = None  # a damaged or unverified file is never vouched for
    atomic_write_text(checksum_path(path), "\n".join(d for d in (digest, current) if d) + "\n")
    if data is not None:
        atomic_write_bytes(path, data)
    else:
        atomic_link(link_from, path)
    atomic_write_text(checksum_path(path), digest + "\n")


def serialize(payload: dict) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def save_checkpoint(path: str | os.PathLike, state: TrainState, *, keep_previous: bool = False) -> None:
    """Write ``state`` to ``path`` atomically, with its checksum beside it."""
    write_payload(path, state.to_payload(), keep_previous=keep_previous)


def write_payload(path: str | os.PathLike, payload, *, keep_previous: bool = False) -> None:
    """Any picklable ``payload`` through the same protocol (tests write damaged contents with it)."""
    path = Path(path)
    data = serialize(payload)
    current = _file_sha256(path)
    if keep_previous and current is not None and current in read_checksums(path):
        _replace_verified(previous_path(path), current, link_from=path)
    _replace_verified(path, sha256_of(data), data=data, current=current)


def verify_checksum(path: str | os.PathLike) -> bytes:
    """The file's bytes if its checksum matches; else ``CheckpointError`` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except OSError as error:  # a folder in its place, no permission, an I/O error
        raise CheckpointError(f"{path}: cannot be read ({error.strerror})") from None
    checksums = read_checksums(path)
    if not checksums:
        raise CheckpointError(f"{path}: checksum file {checksum_path(path).name} is missing; not trusted")
    if sha256_of(data) not in checksums:
        raise CheckpointError(f"{path}: checksum mismatch, the file is damaged or truncated ({len(data)} bytes)")
    return data


def read_payload(path: str | os.PathLike):
    """Verify the checksum, then load with ``weights_only=True`` (never anything else)."""
    import torch

    data = verify_checksum(path)
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError for code, RuntimeError for a bad zip, ...
        raise CheckpointError(f"{path}: refused to load ({first_line(error)[:200]})") from None


def load_checkpoint(path: str | os.PathLike) -> TrainState:
    """The verified, safely loaded and checked training state at ``path``."""
    return TrainState.from_payload(read_payload(path), path)


def load_checkpoint_with_fallback(path: str | os.PathLike) -> tuple[TrainState, CheckpointError | None]:
    """Load ``path``, or its previous version when ``path`` is damaged.

    Returns the state and the error that forced the fallback (None if none did).
    """
    try:
        return load_checkpoint(path), None
    except CheckpointError as error:
        previous = previous_path(path)
        if not previous.exists():
            raise
        try:
            return load_checkpoint(previous), error
        except CheckpointError:
            raise error from None


def load_model_weights(model, state_dict: dict, path: str | os.PathLike) -> None:
    """``load_state_dict`` with strict checking, its error reduced to one clear line."""
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = "; ".join(lines[1:3]) if len(lines) > 1 else lines[0] if lines else "mismatch"
        raise CheckpointError(f"{path}: weights do not fit {type(model).__name__}: {detail[:300]}") from None
