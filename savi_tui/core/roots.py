"""Root folders (experiments, datasets): refused in one line before anything is written,
and whatever a failed attempt created under one is taken away again."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from savi_tui.core.errors import DatasetError, ExperimentError, SaviError


def check_root(path: str | os.PathLike, what: str, error: type[SaviError], *, writable: bool = True) -> Path:
    """``path`` when it is a folder, or could be made one; else ``error`` saying why.

    ``writable`` also asks that files can be created in it (or it can be created).
    """
    path = Path(path)
    existing = next(p for p in (path, *path.absolute().parents) if os.path.lexists(p))
    if existing is path:
        if not path.is_dir():
            raise error(f"{what} {path} is {'a file, not a folder' if path.is_file() else 'not a folder'}")
        if writable and not os.access(path, os.W_OK | os.X_OK):
            raise error(f"{what} {path} is not writable (no permission to create files in it)")
        return path
    if not existing.is_dir():
        raise error(f"{what} {path} lies under {existing}, which is a file")
    if writable and not os.access(existing, os.W_OK | os.X_OK):
        raise error(f"{what} {path} cannot be created: no permission to write in {existing}")
    return path


def check_experiments_root(path: str | os.PathLike, *, writable: bool = True) -> Path:
    return check_root(path, "experiments root", ExperimentError, writable=writable)


def check_datasets_root(path: str | os.PathLike, *, writable: bool = True) -> Path:
    return check_root(path, "datasets root", DatasetError, writable=writable)


@contextmanager
def removed_on_error(folder: str | os.PathLike) -> Iterator[None]:
    """If the block raises, remove what it created at ``folder``: the topmost of its folders
    that did not exist before, or else the entries new in ``folder``. Nothing older is touched."""
    folder = Path(folder).absolute()
    missing = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]
    before = None if missing else set(os.listdir(folder))
    try:
        yield
    except BaseException:
        if missing:
            shutil.rmtree(missing[-1], ignore_errors=True)
        elif folder.is_dir():
            for name in set(os.listdir(folder)) - before:
                entry = folder / name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        raise
