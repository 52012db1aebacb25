"""Datasets: IDX import, the course's JPG folders, subsets, and the batch order."""

import gzip
import hashlib
import struct
from pathlib import Path

import pytest
import torch
from PIL import Image

from savi_tui.core.data import (
    batch_slices,
    epoch_order,
    import_idx,
    load_data,
    load_image_folder,
    read_idx,
)
from savi_tui.core.errors import DatasetError
from tests.conftest import write_tiny_idx

SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def test_imported_idx_files_load_through_torchvision(tmp_path):
    target = import_idx(write_tiny_idx(tmp_path / "idx", train=40, test=20), "mnist", tmp_path / "ds").target
    assert target == tmp_path / "ds" / "MNIST" / "raw"
    data = load_data("mnist", root=tmp_path / "ds", download=False)
    assert data.train.images.shape == (40, 1, 28, 28) and data.train.images.dtype == torch.uint8
    assert data.test.labels.tolist() == [i % 10 for i in range(20)]


def test_uncompressed_idx_files_import_too(tmp_path):
    source = write_tiny_idx(tmp_path / "idx", train=10, test=10)
    for packed in source.glob("*.gz"):
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
        packed.unlink()
    import_idx(source, "fashion-mnist", tmp_path / "ds")
    assert len(load_data("fashion-mnist", root=tmp_path / "ds", download=False).train) == 10


def test_idx_with_wrong_magic_is_refused_and_nothing_is_installed(tmp_path):
    source = write_tiny_idx(tmp_path / "idx", train=10, test=10)
    labels = source / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(struct.pack(">II", 0x00000803, 10) + bytes(10)))
    with pytest.raises(DatasetError, match="magic number"):
        import_idx(source, "mnist", tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_truncated_idx_is_refused_with_its_size(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">IIII", 0x00000803, 3, 28, 28) + bytes(28 * 28 * 2))
    with pytest.raises(DatasetError, match="expected 2368"):
        read_idx(path, images=True)


def test_missing_dataset_without_download_names_the_import_command(tmp_path):
    with pytest.raises(DatasetError, match="savi-tui data import"):
        load_data("mnist", root=tmp_path / "empty", download=False)


def test_a_missing_dataset_is_downloaded_by_torchvision_into_its_layout(tmp_path, monkeypatch):
    import torchvision.datasets

    calls = []

    class FakeMNIST:  # torchvision's contract: download=True puts the raw IDX files in root/MNIST/raw
        def __init__(self, root, train, download):
            calls.append((root, download))
            source = write_tiny_idx(tmp_path / "mirror", train=30, test=10)
            raw = Path(root) / "MNIST" / "raw"
            raw.mkdir(parents=True)
            for packed in source.glob("*.gz"):
                (raw / packed.stem).write_bytes(gzip.decompress(packed.read_bytes()))

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    data = load_data("mnist", root=tmp_path / "ds")
    assert calls == [(str(tmp_path / "ds"), True)]
    assert (len(data.train), len(data.test)) == (30, 10)


def test_a_failed_download_names_the_network_error_and_the_import_command(tmp_path, monkeypatch):
    import torchvision.datasets

    class OfflineMNIST:
        def __init__(self, root, train, download):
            raise RuntimeError(
                "Error downloading train-images-idx3-ubyte.gz:\nTried https://mirror/, got:\n"
                "<urlopen error [Errno -2] Name or service not known>\n"
            )

    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    with pytest.raises(DatasetError) as caught:
        load_data("mnist", root=tmp_path / "ds")
    message = str(caught.value)
    assert "Name or service not known" in message and "savi-tui data import DIR --dataset mnist" in message
    assert len(message.splitlines()) == 1


def test_real_mnist_imports_from_shared_with_official_checksums(tmp_path):
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"{SHARED_MNIST} is not here")
    imported = import_idx(SHARED_MNIST, "mnist", tmp_path)
    target = imported.target
    assert imported.warning is None  # recompressed .gz files: known by their contents
    expected = dict(
        reversed(line.split()) for line in (SHARED_MNIST / "MD5SUMS").read_text().splitlines() if line.strip()
    )
    for name, md5 in expected.items():
        name = name.removesuffix(".gz")
        assert hashlib.md5((target / name).read_bytes()).hexdigest() == md5, name
    data = load_data("mnist", root=tmp_path, download=False)
    assert (len(data.train), len(data.test)) == (60_000, 10_000)
    assert data.train.labels[:5].tolist() == [5, 0, 4, 1, 9]


def write_course_split(folder: Path, labels: dict[str, int]) -> None:
    """Images whose gray level encodes their label, listed in reverse order."""
    (folder / "images").mkdir(parents=True)
    for name, label in labels.items():
        Image.new("L", (28, 28), color=label * 25).save(folder / "images" / name, quality=100)
    lines = [f"{name} {label}" for name, label in reversed(labels.items())]
    (folder / "labels.txt").write_text("\n".join(lines) + "\n")


def test_course_folder_matches_labels_to_images_by_name(tmp_path):
    write_course_split(tmp_path / "train", {f"{i:05d}.jpg": (i * 3) % 10 for i in range(12)})
    split = load_image_folder(tmp_path / "train")
    assert split.images.shape == (12, 1, 28, 28)
    gray_levels = split.images.float().mean(dim=(1, 2, 3)) / 25
    assert torch.allclose(gray_levels, split.labels.float(), atol=0.1)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: (f / "images" / "00001.jpg").unlink(), "no such image"),
        (lambda f: Image.new("L", (28, 28)).save(f / "images" / "extra.jpg"), "has no line in labels.txt"),
        (lambda f: (f / "labels.txt").write_text("00000.jpg five\n00001.jpg 1\n"), "not a digit"),
        (lambda f: Image.new("L", (32, 32)).save(f / "images" / "00000.jpg"), "expected 28x28"),
        (lambda f: (f / "images" / "00000.jpg").write_text("not a picture"), "not a readable image"),
    ],
    ids=["missing-image", "unlabelled-image", "non-numeric-label", "wrong-size", "not-an-image"],
)
def test_course_folder_mismatches_are_refused(tmp_path, mutate, message):
    write_course_split(tmp_path, {"00000.jpg": 0, "00001.jpg": 1})
    mutate(tmp_path)
    with pytest.raises(DatasetError, match=message):
        load_image_folder(tmp_path)


def test_percentage_keeps_a_seeded_subset(tiny_mnist_root):
    first = load_data("mnist", root=tiny_mnist_root, percentage=0.25, seed=3)
    again = load_data("mnist", root=tiny_mnist_root, percentage=0.25, seed=3)
    assert len(first.train) == 64 and len(first.test) == 16
    assert torch.equal(first.train.images, again.train.images)


def test_epoch_order_depends_only_on_seed_and_epoch():
    assert torch.equal(epoch_order(100, seed=1, epoch=2), epoch_order(100, seed=1, epoch=2))
    assert not torch.equal(epoch_order(100, seed=1, epoch=2), epoch_order(100, seed=1, epoch=3))
    assert sorted(epoch_order(100, 1, 2).tolist()) == list(range(100))


def test_batch_slices_cover_the_epoch_and_resume_from_a_batch():
    assert list(batch_slices(10, 4)) == [(0, 4), (4, 8), (8, 10)]
    assert list(batch_slices(10, 4, start=2)) == [(8, 10)]


# --- which dataset the files are: official checksums ------------------------

FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist (.ci/run installs it)
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(), reason=f"{FASHION} is absent: apt-get install dataset-fashion-mnist"
)
needs_mnist = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} is not here")


def _gunzipped(source: Path, folder: Path) -> Path:
    """The four IDX files of ``source``, uncompressed into ``folder`` (users give either)."""
    folder.mkdir(parents=True)
    for packed in source.glob("*.gz"):
        (folder / packed.stem).write_bytes(gzip.decompress(packed.read_bytes()))
    return folder


@needs_fashion
@pytest.mark.parametrize("packed", [True, False], ids=["gz", "uncompressed"])
def test_fashion_mnist_files_are_refused_as_mnist_naming_their_dataset(tmp_path, packed):
    source = FASHION if packed else _gunzipped(FASHION, tmp_path / "raw")
    with pytest.raises(
        DatasetError, match=r"these are Fashion-MNIST's files, not MNIST's; use --dataset fashion-mnist"
    ):
        import_idx(source, "mnist", tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


@needs_fashion
def test_real_fashion_mnist_imports_as_itself_without_a_warning(tmp_path):
    imported = import_idx(FASHION, "fashion-mnist", tmp_path)
    assert imported.warning is None
    data = load_data("fashion-mnist", root=tmp_path, download=False)
    assert data.train.labels[:5].tolist() == [9, 0, 0, 3, 0]  # ankle boot, T-shirt, T-shirt, dress, T-shirt


@needs_mnist
def test_mnist_files_are_refused_as_fashion_mnist(tmp_path):
    with pytest.raises(DatasetError, match=r"these are MNIST's files, not Fashion-MNIST's; use --dataset mnist"):
        import_idx(_gunzipped(SHARED_MNIST, tmp_path / "raw"), "fashion-mnist", tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


@needs_mnist
@needs_fashion
def test_one_file_of_another_dataset_among_them_is_named(tmp_path):
    source = _gunzipped(SHARED_MNIST, tmp_path / "mixed")
    (source / "t10k-labels-idx1-ubyte").write_bytes(
        gzip.decompress((FASHION / "t10k-labels-idx1-ubyte.gz").read_bytes())
    )
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte is one of Fashion-MNIST's files, not MNIST's"):
        import_idx(source, "mnist", tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_files_of_unknown_checksums_are_imported_with_a_warning(tmp_path):
    imported = import_idx(write_tiny_idx(tmp_path / "idx", train=10, test=10), "mnist", tmp_path / "ds")
    assert imported.target == tmp_path / "ds" / "MNIST" / "raw"
    assert imported.warning == "these files do not match MNIST's official checksums; imported as mnist anyway"


@needs_mnist
def test_one_changed_file_among_official_ones_is_named_in_the_warning(tmp_path):
    source = _gunzipped(SHARED_MNIST, tmp_path / "edited")
    labels = bytearray((source / "t10k-labels-idx1-ubyte").read_bytes())
    labels[8] = (labels[8] + 1) % 10  # one relabelled test example: the user's own variant
    (source / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    warning = import_idx(source, "mnist", tmp_path / "ds").warning
    assert warning.startswith("t10k-labels-idx1-ubyte does not match MNIST's official checksums")


def test_the_gz_checksums_are_torchvisions():
    import torchvision.datasets

    from savi_tui.core.data import TORCHVISION_DATASETS
    from savi_tui.core.dataset_checksums import GZ_MD5

    for dataset, class_name in TORCHVISION_DATASETS.items():
        resources = getattr(torchvision.datasets, class_name).resources
        assert {name.removesuffix(".gz"): md5 for name, md5 in resources} == GZ_MD5[dataset], dataset


# --- datasets roots: unusable ones, and what a failed download leaves ------


class _OfflineLikeTorchvision:
    """What torchvision does offline: make root/MNIST/raw, start a file, then fail."""

    def __init__(self, root, train, download):
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "train-images-idx3-ubyte.gz").write_bytes(b"partial")
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\n<urlopen error no internet>\n")


def test_a_failed_download_removes_the_folders_it_created(tmp_path, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", _OfflineLikeTorchvision)
    with pytest.raises(DatasetError, match="could not be downloaded"):
        load_data("mnist", root=tmp_path / "nonexistent" / "x")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_what_was_there_before(tmp_path, monkeypatch):
    import torchvision.datasets

    raw = tmp_path / "ds" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"the user's")
    import_idx(write_tiny_idx(tmp_path / "idx", train=10, test=10), "kmnist", tmp_path / "ds")
    monkeypatch.setattr(torchvision.datasets, "MNIST", _OfflineLikeTorchvision)
    with pytest.raises(DatasetError, match="could not be downloaded"):
        load_data("mnist", root=tmp_path / "ds")
    assert sorted(p.name for p in raw.iterdir()) == ["t10k-labels-idx1-ubyte"]
    assert (raw / "t10k-labels-idx1-ubyte").read_bytes() == b"the user's"
    assert len(load_data("kmnist", root=tmp_path / "ds", download=False).train) == 10


@pytest.mark.parametrize("under", [False, True], ids=["a-file", "under-a-file"])
def test_a_datasets_root_that_is_a_file_is_refused_before_any_download(tmp_path, monkeypatch, under):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", _OfflineLikeTorchvision)
    (tmp_path / "file").write_text("not a folder")
    root = tmp_path / "file" / "sub" if under else tmp_path / "file"
    expected = f"lies under {tmp_path / 'file'}, which is a file" if under else "is a file, not a folder"
    for attempt in (
        lambda: load_data("mnist", root=root),
        lambda: import_idx(write_tiny_idx(tmp_path / "idx"), "mnist", root),
    ):
        with pytest.raises(DatasetError, match=f"^datasets root {root} {expected}$".replace("(", r"\(")):
            attempt()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "idx"]
