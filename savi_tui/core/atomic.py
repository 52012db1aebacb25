"""Atomic file writes: temp file in the same folder, fsync, ``os.replace``.

A reader sees the old file or the new one, never a mix, even if the writer is
killed halfway. Temp files carry ``TEMP_MARK`` so a later start can sweep them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TEMP_MARK = ".tmp-"


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    tmp = _temp_path(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        if error.filename is None:  # a failed write() or fsync() names no file: say which
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_link(source: str | os.PathLike, path: str | os.PathLike) -> None:
    """Make ``path`` a hard link to ``source`` (the same file, no copy), atomically."""
    path = Path(path)
    tmp = _temp_path(path)
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename durable: fsync the folder that holds it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete temp files left by a writer that was killed; return what went."""
    removed = []
    for entry in Path(folder).iterdir():
        if TEMP_MARK in entry.name and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
