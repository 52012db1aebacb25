"""Datasets → uint8 tensors in memory → batches.

Every source (torchvision's MNIST family, IDX files, the course's folder of
JPGs) ends as a ``Split``: images ``uint8 [N, 1, 28, 28]`` and labels
``int64 [N]``. Images stay uint8 (1 byte a pixel) and are converted to float per
batch by the trainer.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from savi_tui.core.atomic import atomic_write_bytes
from savi_tui.core.dataset_checksums import check_owners, official_dataset
from savi_tui.core.errors import DatasetError
from savi_tui.core.roots import check_datasets_root, removed_on_error

if TYPE_CHECKING:
    import torch

IMAGE_SIZE = 28
NUM_CLASSES = 10
DATASETS_ENV = "SAVI_DATASETS"

# dataset name → torchvision class name (also its folder under the root)
TORCHVISION_DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}
IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
_IMAGES_MAGIC = 0x00000803
_LABELS_MAGIC = 0x00000801


def default_datasets_root() -> Path:
    return Path(os.environ.get(DATASETS_ENV) or Path.home() / "data" / "savi_datasets")


@dataclass
class Split:
    images: torch.Tensor  # uint8 [N, 1, 28, 28]
    labels: torch.Tensor  # int64 [N]

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class Data:
    name: str
    train: Split
    test: Split


def load_data(
    dataset: str,
    *,
    data_folder: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    percentage: float = 1.0,
    seed: int = 0,
    download: bool = True,
) -> Data:
    """Load both splits into memory; ``percentage`` keeps a seeded random subset of each."""
    if dataset == "folder":
        if data_folder is None:
            raise DatasetError("dataset 'folder' needs a data folder (-df DIR)")
        train, test = (load_image_folder(Path(data_folder) / split) for split in ("train", "test"))
        name = f"folder:{Path(data_folder).name}"
    elif dataset in TORCHVISION_DATASETS:
        root = Path(root) if root is not None else default_datasets_root()
        train, test = (_load_torchvision(dataset, root, split, download) for split in ("train", "test"))
        name = dataset
    else:
        raise DatasetError(
            f"unknown dataset {dataset!r}; choose one of: {', '.join([*TORCHVISION_DATASETS, 'folder'])}"
        )
    if percentage < 1.0:
        train, test = _subset(train, percentage, seed), _subset(test, percentage, seed + 1)
    return Data(name=name, train=train, test=test)


def _subset(split: Split, percentage: float, seed: int) -> Split:
    import torch

    count = max(1, round(len(split) * percentage))
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(len(split), generator=generator)[:count].sort().values
    return Split(split.images[keep], split.labels[keep])


def _load_torchvision(dataset: str, root: Path, split: str, download: bool) -> Split:
    """One split of the MNIST family from torchvision's folder layout (``root/MNIST/raw``).

    torchvision downloads the files when they are missing; installed files are read
    with ``read_idx``, which checks them, so a training never pays torchvision's
    import (its time and memory).
    """
    raw = root / TORCHVISION_DATASETS[dataset] / "raw"
    images_file, labels_file = (raw / IDX_FILES[(split, kind)] for kind in ("images", "labels"))
    if not (images_file.is_file() and labels_file.is_file()):
        if not download:
            raise DatasetError(_missing_message(dataset, root, "is not installed"))
        _download(dataset, root)
    try:
        images, labels = read_idx(images_file, images=True), read_idx(labels_file, images=False)
    except DatasetError as error:
        fix = f"re-install with: savi-tui data import DIR --dataset {dataset}"
        raise DatasetError(f"{raw}/{error}; {fix}") from None
    return _split_from_idx_bytes(images, labels, f"{dataset} {split}")


def _download(dataset: str, root: Path) -> None:
    check_datasets_root(root)
    from torchvision import datasets

    try:  # offline, torchvision leaves its folders (and a partial file) behind: take them away
        with removed_on_error(root / TORCHVISION_DATASETS[dataset] / "raw"):
            getattr(datasets, TORCHVISION_DATASETS[dataset])(str(root), train=True, download=True)
    except Exception as error:  # URLError, RuntimeError, OSError: any failed download
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = lines[-1] if lines else type(error).__name__  # the last mirror's own error
        raise DatasetError(_missing_message(dataset, root, f"could not be downloaded ({reason[:160]})")) from None


def _split_from_idx_bytes(images: bytes, labels: bytes, what: str) -> Split:
    """Tensors over the checked bytes of an IDX images file and its labels file."""
    import torch

    count = struct.unpack(">I", images[4:8])[0]
    pixels = torch.frombuffer(bytearray(images), dtype=torch.uint8, offset=16)
    targets = torch.frombuffer(bytearray(labels), dtype=torch.uint8, offset=8)
    return _split_from_tensors(pixels.reshape(count, IMAGE_SIZE, IMAGE_SIZE), targets, what)


def _missing_message(dataset: str, root: Path, what: str) -> str:
    return (
        f"{dataset} {what} into {root}; on a machine without internet, copy its four IDX files "
        f"into a folder DIR and run: savi-tui data import DIR --dataset {dataset}"
    )


def _split_from_tensors(images, labels, what: str) -> Split:
    import torch

    if images.dtype != torch.uint8 or images.dim() != 3 or tuple(images.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise DatasetError(f"{what}: expected uint8 images of 28x28, got {tuple(images.shape)} {images.dtype}")
    labels = labels.to(torch.int64)
    if labels.shape[0] != images.shape[0]:
        raise DatasetError(f"{what}: {images.shape[0]} images but {labels.shape[0]} labels")
    if images.shape[0] == 0:
        raise DatasetError(f"{what}: no examples")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DatasetError(f"{what}: labels must be 0-9")
    return Split(images.unsqueeze(1).contiguous(), labels)


# --- IDX files -------------------------------------------------------------


def read_idx(path: str | os.PathLike, *, images: bool) -> bytes:
    """The uncompressed bytes of an IDX file, after checking magic number and length."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DatasetError(f"{path.name}: not a valid gzip file ({error})") from None
    header = 16 if images else 8
    if len(raw) < header:
        raise DatasetError(f"{path.name}: truncated IDX header ({len(raw)} bytes)")
    magic, count = struct.unpack(">II", raw[:8])
    expected_magic = _IMAGES_MAGIC if images else _LABELS_MAGIC
    if magic != expected_magic:
        kind = "images" if images else "labels"
        raise DatasetError(f"{path.name}: magic number {magic:#010x} is not IDX {kind} ({expected_magic:#010x})")
    item = 1
    if images:
        rows, cols = struct.unpack(">II", raw[8:16])
        if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{path.name}: images are {rows}x{cols}, expected 28x28")
        item = rows * cols
    if count == 0:
        raise DatasetError(f"{path.name}: holds no examples")
    if len(raw) != header + count * item:
        raise DatasetError(f"{path.name}: {len(raw)} bytes, expected {header + count * item} for {count} items")
    if not images and max(raw[header:]) >= NUM_CLASSES:
        raise DatasetError(f"{path.name}: labels must be 0-9")
    return raw


def _find_idx(folder: Path, base: str) -> Path:
    for candidate in (folder / base, folder / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{folder}: missing {base} (or {base}.gz)")


@dataclass(frozen=True)
class IdxImport:
    target: Path  # the folder the four files were written to
    warning: str | None  # for the user when the files are not the dataset's official ones


def import_idx(source: str | os.PathLike, dataset: str = "mnist", root: str | os.PathLike | None = None) -> IdxImport:
    """Check the four IDX files in ``source`` and install them where torchvision looks.

    Nothing is written unless all four pass, and another dataset's official files are refused.
    """
    if dataset not in TORCHVISION_DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}; choose one of: {', '.join(TORCHVISION_DATASETS)}")
    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"{source}: no such folder")
    root = check_datasets_root(root if root is not None else default_datasets_root())
    checked, owners = {}, {}
    for split in ("train", "test"):
        files = {kind: _find_idx(source, IDX_FILES[(split, kind)]) for kind in ("images", "labels")}
        images, labels = read_idx(files["images"], images=True), read_idx(files["labels"], images=False)
        n_images, n_labels = struct.unpack(">I", images[4:8])[0], struct.unpack(">I", labels[4:8])[0]
        if n_images != n_labels:
            raise DatasetError(f"{source}: {split} has {n_images} images but {n_labels} labels")
        for kind, data in (("images", images), ("labels", labels)):
            packed = files[kind].read_bytes() if files[kind].suffix == ".gz" else None
            checked[(split, kind)], owners[IDX_FILES[(split, kind)]] = data, official_dataset(data, packed)
    warning = check_owners(dataset, owners)
    target = root / TORCHVISION_DATASETS[dataset] / "raw"
    target.mkdir(parents=True, exist_ok=True)
    for key, data in checked.items():
        atomic_write_bytes(target / IDX_FILES[key], data)
    return IdxImport(target, warning)


# --- the course's folder of JPGs --------------------------------------------

_LABEL_LINE = re.compile(r"^(\S+)\s+(\S+)$")


def load_image_folder(folder: str | os.PathLike) -> Split:
    """``folder/images/*.jpg`` and ``folder/labels.txt`` (lines ``00000.jpg 5``), matched by name."""
    import torch
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    images_dir, labels_file = folder / "images", folder / "labels.txt"
    if not images_dir.is_dir():
        raise DatasetError(f"{images_dir}: no such folder")
    if not labels_file.is_file():
        raise DatasetError(f"{labels_file}: no such file")
    labels = _read_labels(labels_file)
    files = {p.name: p for p in images_dir.iterdir() if p.is_file() and not p.name.startswith(".")}
    missing = sorted(set(labels) - set(files))
    if missing:
        raise DatasetError(
            f"{labels_file}: names {missing[0]!r} but {images_dir} has no such image ({len(missing)} missing)"
        )
    unlabelled = sorted(set(files) - set(labels))
    if unlabelled:
        raise DatasetError(f"{images_dir}: {unlabelled[0]!r} has no line in labels.txt ({len(unlabelled)} unlabelled)")
    names = sorted(labels)
    buffer = bytearray(len(names) * IMAGE_SIZE * IMAGE_SIZE)
    for index, name in enumerate(names):
        try:
            with Image.open(files[name]) as image:
                if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                    raise DatasetError(f"{files[name]}: image is {image.size[0]}x{image.size[1]}, expected 28x28")
                pixels = image.convert("L").tobytes()
        except (UnidentifiedImageError, OSError) as error:
            raise DatasetError(f"{files[name]}: not a readable image ({type(error).__name__})") from None
        offset = index * IMAGE_SIZE * IMAGE_SIZE
        buffer[offset : offset + IMAGE_SIZE * IMAGE_SIZE] = pixels
    images = torch.frombuffer(buffer, dtype=torch.uint8).reshape(len(names), IMAGE_SIZE, IMAGE_SIZE)
    return _split_from_tensors(images, torch.tensor([labels[n] for n in names]), str(folder))


def _read_labels(path: Path) -> dict[str, int]:
    labels: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        match = _LABEL_LINE.match(line.strip())
        if not match:
            raise DatasetError(f"{path}:{number}: expected 'NAME LABEL', got {line.strip()!r}")
        name, label = match.groups()
        if not label.isdigit() or int(label) >= NUM_CLASSES:
            raise DatasetError(f"{path}:{number}: label {label!r} is not a digit 0-9")
        if name in labels:
            raise DatasetError(f"{path}:{number}: {name!r} is listed twice")
        labels[name] = int(label)
    if not labels:
        raise DatasetError(f"{path}: no labels")
    return labels


# --- batches ----------------------------------------------------------------


def epoch_order(size: int, seed: int, epoch: int, device=None):
    """The shuffled example order of one epoch: a function of (seed, epoch) alone,
    so a resumed run draws exactly the order the interrupted one would have."""
    import torch

    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(size, generator=generator)
    return order if device is None else order.to(device)


def batch_slices(size: int, batch_size: int, start: int = 0):
    """``(begin, end)`` of each batch from batch index ``start`` on; the last may be short."""
    for begin in range(start * batch_size, size, batch_size):
        yield begin, min(begin + batch_size, size)


def batches_per_epoch(size: int, batch_size: int) -> int:
    return -(-size // batch_size)
