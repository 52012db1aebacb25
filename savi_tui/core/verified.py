"""``ROOT/.verified.json``: which checkpoints' checksums verified, so that a listing hashes each once.

Hashing every checkpoint of a root takes seconds (a thousand experiments hold about 7 GB, and
SHA-256 runs at about 1.5 GB/s a core), and the list is read often: on every ``savi-tui list``,
and in the app whenever a training writes. So a checkpoint that verified is remembered by its
identity (device, inode, size, modification and change times), the digest it matched and the
identity of the checksum file that listed it: every save replaces both by a rename, and any write
or metadata change moves a file's change time, which no user can set back, so either makes it
hashed again. A listing hands over the identities its folder scan saw (``folder_signature``), so
a known checkpoint then costs no system call at all.

It is a cache of verdicts, not data: only ``VerifiedRecord.save`` writes it (atomically), a
listing that cannot read it hashes everything again, and one that cannot write it (a root it may
only read) just does not remember. Loading a checkpoint never consults it: ``read_payload``
verifies every byte each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from savi_tui.core.atomic import atomic_write_json
from savi_tui.core.checkpoint import CHECKSUM_SUFFIX, read_checksums, verify_checksum

VERIFIED_FILE = ".verified.json"
FORMAT_VERSION = 2  # 1 had no checksum file identity: its verdicts are hashed again once
IDENTITY = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
CHUNK = 1 << 20
_saving = threading.Lock()  # two listings of one app may end at once; the temp file is per process


class VerifiedRecord:
    """The verdicts of one root, read once per listing and written back when they changed."""

    def __init__(self, root: str | os.PathLike, scanned: dict | None = None) -> None:
        """``scanned``: NAME → {FILE: identity}, as a scan of the root just saw the files."""
        self.root = Path(root)
        self.path = self.root / VERIFIED_FILE
        self.scanned = scanned or {}
        self.files: dict[str, list] = {}  # "NAME/status.pkl" → [*identity, digest, *checksum file's identity]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == FORMAT_VERSION and isinstance(data.get("files"), dict):
                self.files = data["files"]
        except (OSError, ValueError, AttributeError):
            pass  # none yet, or damaged: every checkpoint is hashed again
        self._loaded = dict(self.files)

    def known(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` and its checksum file are the very files that verified."""
        path = os.fspath(path)  # a string: a thousand Paths were half of a listing's check
        folder, name = _folder_and_name(path)
        known = self.files.get(f"{folder}/{name}")
        if not (isinstance(known, list) and len(known) == 2 * len(IDENTITY) + 1):
            return False
        recorded = (tuple(known[: len(IDENTITY)]), tuple(known[len(IDENTITY) + 1 :]))
        scanned = self.scanned.get(folder, {})
        if recorded == (scanned.get(name), scanned.get(name + CHECKSUM_SUFFIX)):
            return True
        try:  # not as scanned (a symlink's scan is of the link): as the files are now
            return recorded == (file_identity(os.stat(path)), file_identity(os.stat(path + CHECKSUM_SUFFIX)))
        except OSError:
            return False

    def check_intact(self, path: str | os.PathLike) -> None:
        """``verify_checksum``'s verdict on ``path`` (a ``CheckpointError`` naming the fault), hashed
        only when the record does not know the file."""
        path = Path(path)
        if self.known(path):
            return
        key = self._key(path)
        try:
            with open(path, "rb") as data:
                identity = file_identity(os.fstat(data.fileno()))  # of the bytes hashed, should a save replace the file
                digest = hash_file(data)
            listed_by = file_identity(os.stat(f"{path}{CHECKSUM_SUFFIX}"))  # before it is read, for the same reason
            if digest in read_checksums(path):
                self.files[key] = [*identity, digest, *listed_by]
                return
        except OSError:
            pass
        self.files.pop(key, None)
        verify_checksum(path)  # names the fault: missing, unreadable or damaged

    def _key(self, path: str | os.PathLike) -> str:
        return "/".join(_folder_and_name(path))

    def save(self, names: set[str]) -> None:
        """Write the verdicts back, keeping only those of the experiments ``names`` (the listing's)."""
        self.files = {key: value for key, value in self.files.items() if key.split("/", 1)[0] in names}
        if self.files == self._loaded:
            return
        try:
            with _saving:
                atomic_write_json(self.path, {"version": FORMAT_VERSION, "files": self.files})
            self._loaded = dict(self.files)
        except OSError:
            pass  # a root this user may only read: the next listing hashes again


def _folder_and_name(path: str | os.PathLike) -> tuple[str, str]:
    """(NAME, FILE) of ROOT/NAME/FILE: where a checkpoint lies."""
    folder, name = os.path.split(path)
    return os.path.basename(folder), name


def file_identity(status: os.stat_result) -> tuple[int, ...]:
    """What the record knows a file by (``IDENTITY``), from its stat."""
    return tuple(getattr(status, field) for field in IDENTITY)


def hash_file(data) -> str:
    """The SHA-256 of an open file, read in chunks; each ``update`` releases the GIL, so both CPUs hash at once."""
    digest = hashlib.sha256()
    while chunk := data.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
