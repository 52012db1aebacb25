"""Bad input, table-driven (issue item 9): one clear line, exit 2, nothing created or changed.

Each case runs the real CLI in-process (``savi_tui.cli.main``) against an
experiments root that holds a finished experiment and a few with broken
config.json files, and a datasets root with a tiny MNIST. Before and after,
both roots are snapshotted byte for byte.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_support import make_datasets_root, train_tiny, tree_snapshot

from savi_tui import cli


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> Path:
    """``experiments/`` (done, badtype, badjson, badkey) and ``datasets/``, to copy per case."""
    base = tmp_path_factory.mktemp("bad_input")
    datasets = make_datasets_root(base, train=64, test=16)
    experiments = base / "experiments"
    train_tiny(experiments, datasets, "done", epochs=2)
    for name, text in (
        ("badtype", json.dumps({"model": "ModelFullyConnected", "batch_size": "32", "epochs": 2})),
        ("badjson", '{"model": "ModelFullyConnected", "batch_size": 32,'),
        ("badkey", json.dumps({"model": "ModelFullyConnected", "layers": 3})),
    ):
        (experiments / name).mkdir()
        (experiments / name / "config.json").write_text(text)
    shutil.move(str(datasets), base / "datasets")
    shutil.rmtree(base / "idx")
    return base


def _jpg(path: Path, size: int = 28, shade: int = 0) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (size, size), shade).save(path, "JPEG")


def course_folder(base: Path, change: Callable[[Path], None] | None = None) -> Path:
    """The course's layout, DIR/{train,test}/images/NNNNN.jpg with labels.txt, then ``change``d."""
    folder = base / "course"
    for split in ("train", "test"):
        lines = []
        for index in range(10):
            _jpg(folder / split / "images" / f"{index:05d}.jpg", shade=index * 25)
            lines.append(f"{index:05d}.jpg {index}")
        (folder / split / "labels.txt").write_text("\n".join(lines) + "\n")
    if change is not None:
        change(folder)
    return folder


def _labels(folder: Path, edit: Callable[[list[str]], list[str]]) -> None:
    path = folder / "train" / "labels.txt"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")


def _empty_train_split(folder: Path) -> None:
    for image in (folder / "train" / "images").iterdir():
        image.unlink()
    (folder / "train" / "labels.txt").write_text("")


def _idx_source(base: Path, change: Callable[[Path], None]) -> Path:
    """The four IDX files of the tiny MNIST, ungzipped, then ``change``d."""
    from tests.conftest import write_tiny_idx

    source = write_tiny_idx(base / "idx", 20, 10)
    for gz in source.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    change(source)
    return source


def _cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


TRAIN = ["train", "-ne", "1", "-bs", "16"]
IMAGES = "train-images-idx3-ubyte"

# id → (argv after "savi-tui" with {df} {src} placeholders, what builds the folder they name, what stderr says)
CASES: dict[str, tuple[list[str], Callable[[Path], Path] | None, str]] = {
    "batch size 0": (["train", "-bs", "0"], None, "batch size must be a whole number from 1 to 1000000, got 0"),
    "batch size negative": (
        ["train", "-bs", "-3"],
        None,
        "batch size must be a whole number from 1 to 1000000, got -3",
    ),
    "batch size not a number": (["train", "-bs", "ten"], None, "'ten' is not a whole number"),
    "epochs 0": (["train", "-ne", "0"], None, "epochs must be a whole number from 1 to 100000, got 0"),
    "fraction 0": (["train", "-pe", "0"], None, "must be in (0, 1], got 0"),
    "fraction above 1": (["train", "-pe", "1.5"], None, "must be in (0, 1], got 1.5"),
    "fraction nan": (["train", "-pe", "nan"], None, "must be in (0, 1], got nan"),
    "learning rate 0": (["train", "-lr", "0"], None, "must be in (0, 10], got 0"),
    "learning rate inf": (["train", "-lr", "inf"], None, "must be in (0, 10], got inf"),
    "seed negative": (["train", "--seed", "-1"], None, "seed must be a whole number from 0 to"),
    "unknown model": (["train", "-m", "ModelHuge"], None, "unknown model 'ModelHuge'"),
    "unknown optimizer": (["train", "--optimizer", "rmsprop"], None, "invalid choice: 'rmsprop'"),
    "cuda on a machine without it": (["train", "--device", "cuda"], None, "no CUDA device is available"),
    "name climbing out": ([*TRAIN, "-n", "../escape"], None, "invalid experiment name '../escape'"),
    "name with a slash": ([*TRAIN, "-n", "a/b"], None, "invalid experiment name 'a/b'"),
    "hidden name": ([*TRAIN, "-n", ".hidden"], None, "invalid experiment name '.hidden'"),
    "empty name": ([*TRAIN, "-n", ""], None, "invalid experiment name ''"),
    "name too long": ([*TRAIN, "-n", "x" * 101], None, "invalid experiment name"),
    "name taken": ([*TRAIN, "-n", "done"], None, "experiment 'done' already exists"),
    "resume unknown": (["train", "--resume", "nothere"], None, "no experiment 'nothere'"),
    "resume climbing out": (["train", "--resume", "../done"], None, "invalid experiment name '../done'"),
    "resume nothing interrupted": (["train", "-rt"], None, "no interrupted experiment to resume"),
    "resume shortening": (["train", "--resume", "done", "-ne", "1"], None, "cannot shorten done from 2 to 1 epochs"),
    "config.json wrong type": (["train", "--resume", "badtype"], None, "config key 'batch_size' must be int, got str"),
    "config.json not JSON": (["train", "--resume", "badjson"], None, "config.json: not valid JSON"),
    "config.json unknown key": (["train", "--resume", "badkey"], None, "unknown config key(s): layers"),
    "dataset folder missing": ([*TRAIN, "-df", "{df}"], None, "train/images: no such folder"),
    "dataset folder empty": ([*TRAIN, "-df", "{df}"], lambda b: b / "empty", "train/images: no such folder"),
    "labels.txt missing": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: (f / "train" / "labels.txt").unlink()),
        "train/labels.txt: no such file",
    ),
    "labels.txt missing a line": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: lines[:-1])),
        "'00009.jpg' has no line in labels.txt (1 unlabelled)",
    ),
    "labels.txt with an extra line": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: [*lines, "00010.jpg 3"])),
        "names '00010.jpg' but",
    ),
    "labels.txt non-numeric": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: [*lines[:3], "00003.jpg three", *lines[4:]])),
        "train/labels.txt:4: label 'three' is not a digit 0-9",
    ),
    "labels.txt label 10": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: [*lines[:-1], "00009.jpg 10"])),
        "train/labels.txt:10: label '10' is not a digit 0-9",
    ),
    "labels.txt line without a label": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: ["00000.jpg", *lines[1:]])),
        "train/labels.txt:1: expected 'NAME LABEL', got '00000.jpg'",
    ),
    "labels.txt names an image twice": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _labels(f, lambda lines: [*lines, lines[0]])),
        "train/labels.txt:11: '00000.jpg' is listed twice",
    ),
    "labels.txt and images empty": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, _empty_train_split),
        "train/labels.txt: no labels",
    ),
    "a text file named .jpg": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: (f / "test" / "images" / "00004.jpg").write_text("not an image")),
        "test/images/00004.jpg: not a readable image",
    ),
    "an image of the wrong size": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: _jpg(f / "train" / "images" / "00002.jpg", size=32)),
        "train/images/00002.jpg: image is 32x32, expected 28x28",
    ),
    "test split missing": (
        [*TRAIN, "-df", "{df}"],
        lambda b: course_folder(b, lambda f: shutil.rmtree(f / "test")),
        "test/images: no such folder",
    ),
    "IDX import truncated": (
        ["data", "import", "{src}"],
        lambda b: _idx_source(b, lambda s: _cut(s / IMAGES, 16 + 28 * 28 * 20 - 1)),
        f"{IMAGES}: 15695 bytes, expected 15696 for 20 items",
    ),
    "IDX import header cut": (
        ["data", "import", "{src}"],
        lambda b: _idx_source(b, lambda s: _cut(s / IMAGES, 10)),
        f"{IMAGES}: truncated IDX header (10 bytes)",
    ),
    "IDX import wrong magic": (
        ["data", "import", "{src}"],
        lambda b: _idx_source(b, lambda s: shutil.copy(s / "train-labels-idx1-ubyte", s / IMAGES)),
        f"{IMAGES}: magic number 0x00000801 is not IDX images",
    ),
    "IDX import bad gzip": (
        ["data", "import", "{src}"],
        lambda b: _idx_source(b, lambda s: (s / f"{IMAGES}").rename(s / f"{IMAGES}.gz")),
        f"{IMAGES}.gz: not a valid gzip file",
    ),
    "IDX import file missing": (
        ["data", "import", "{src}"],
        lambda b: _idx_source(b, lambda s: (s / "t10k-labels-idx1-ubyte").unlink()),
        "missing t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz)",
    ),
    "installed IDX truncated": (
        TRAIN,
        lambda b: _cut(b / "case" / "datasets" / "MNIST" / "raw" / IMAGES, 16 + 28 * 28 * 60),
        f"MNIST/raw/{IMAGES}: 47056 bytes, expected 50192 for 64 items; re-install with: savi-tui data import",
    ),
    "export without a checkpoint": (["export", "badtype"], None, "experiment badtype has no checkpoint yet"),
    "show unknown": (["show", "nothere"], None, "no experiment 'nothere'"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_exit_2_and_changes_nothing(roots, tmp_path, capsys, case):
    import torch

    if case == "cuda on a machine without it" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    argv, build, expected = CASES[case]
    base = tmp_path / "case"
    shutil.copytree(roots, base)
    folder = build(tmp_path) if build else tmp_path / "missing"  # may damage the copied roots
    argv = [arg.format(df=folder, src=folder) for arg in argv]
    argv += ["-ep", str(base / "experiments"), "--datasets-root", str(base / "datasets")]
    before = tree_snapshot(base)
    _assert_one_error_line(argv, capsys, expected)
    assert tree_snapshot(base) == before, "bad input created or changed files"


def _assert_one_error_line(argv: list[str], capsys, expected: str) -> None:
    """``savi-tui ARGV`` exits 2 with one error line that says ``expected``, and prints nothing else."""
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(cli.main(argv))
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("savi-tui") and ": error: " in lines[0], err
    assert expected in lines[0], lines[0]
    assert out == ""


# Roots that cannot be folders: {file} is a file, {exps} and {ds} the good roots of the case.
ROOT_CASES: dict[str, tuple[list[str], dict[str, str], str]] = {
    "train, -ep a file": (
        ["-ep", "{file}", *TRAIN, "--datasets-root", "{ds}"],
        {},
        "experiments root {file} is a file",
    ),
    "train, -ep under a file": (
        ["-ep", "{file}/sub", *TRAIN, "--datasets-root", "{ds}"],
        {},
        "experiments root {file}/sub lies under {file}, which is a file",
    ),
    "train, SAVI_EXPERIMENTS a file": (
        [*TRAIN, "--datasets-root", "{ds}"],
        {"SAVI_EXPERIMENTS": "{file}"},
        "experiments root {file} is a file, not a folder",
    ),
    "train, --datasets-root a file": (
        [*TRAIN, "-ep", "{exps}", "--datasets-root", "{file}"],
        {},
        "datasets root {file} is a file, not a folder",
    ),
    "train, --datasets-root under a file": (
        [*TRAIN, "-ep", "{exps}", "--datasets-root", "{file}/sub"],
        {},
        "datasets root {file}/sub lies under {file}, which is a file",
    ),
    "train, SAVI_DATASETS a file": ([*TRAIN, "-ep", "{exps}"], {"SAVI_DATASETS": "{file}"}, "datasets root {file} is"),
    "resume, -ep a file": (["train", "--resume", "done", "-ep", "{file}"], {}, "experiments root {file} is a file"),
    "resume latest, -ep a file": (["train", "-rt", "-ep", "{file}"], {}, "experiments root {file} is a file"),
    "resume, --datasets-root a file": (
        ["train", "--resume", "done", "-ep", "{exps}", "--datasets-root", "{file}"],
        {},
        "datasets root {file} is a file, not a folder",
    ),
    "list, -ep a file": (["list", "-ep", "{file}"], {}, "experiments root {file} is a file, not a folder"),
    "list, -ep under a file": (["-ep", "{file}/sub", "list"], {}, "experiments root {file}/sub lies under {file}"),
    "show, -ep a file": (["show", "done", "-ep", "{file}"], {}, "experiments root {file} is a file, not a folder"),
    "export, -ep a file": (["export", "done", "-ep", "{file}"], {}, "experiments root {file} is a file, not a folder"),
    "data import, --datasets-root a file": (
        ["data", "import", "{src}", "--datasets-root", "{file}"],
        {},
        "datasets root {file} is a file, not a folder",
    ),
    "data import, --datasets-root under a file": (
        ["--datasets-root", "{file}/sub", "data", "import", "{src}"],
        {},
        "datasets root {file}/sub lies under {file}, which is a file",
    ),
    "the app, -ep a file": (["-ep", "{file}"], {}, "experiments root {file} is a file, not a folder"),
}


@pytest.mark.parametrize("case", ROOT_CASES)
def test_a_root_that_is_a_file_gives_one_line_exit_2_and_changes_nothing(roots, tmp_path, capsys, monkeypatch, case):
    import savi_tui.tui.app

    monkeypatch.setattr(savi_tui.tui.app, "run_app", lambda **roots: pytest.fail("the app opened"))
    argv, env, expected = ROOT_CASES[case]
    base = tmp_path / "case"
    shutil.copytree(roots, base)
    (base / "a-file").write_text("not a folder")
    source = _idx_source(tmp_path, lambda s: None)
    places = {"file": base / "a-file", "exps": base / "experiments", "ds": base / "datasets", "src": source}
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(**places))
    argv = [arg.format(**places) for arg in argv]
    before = tree_snapshot(tmp_path)
    _assert_one_error_line(argv, capsys, expected.format(**places))
    assert tree_snapshot(tmp_path) == before, "bad input created or changed files"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([*TRAIN, "-ep", "{locked}", "--datasets-root", "{ds}"], "experiments root {locked} is not writable"),
        (
            [*TRAIN, "-ep", "{locked}/new", "--datasets-root", "{ds}"],
            "experiments root {locked}/new cannot be created: no permission to write in {locked}",
        ),
        (["data", "import", "{src}", "--datasets-root", "{locked}"], "datasets root {locked} is not writable"),
    ],
    ids=["experiments root", "under it", "datasets root"],
)
def test_a_root_without_write_permission_gives_one_line_exit_2(roots, tmp_path, capsys, argv, expected):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.access(locked, os.W_OK):
        locked.chmod(0o755)
        pytest.skip("this process may write into a read-only folder (root with CAP_DAC_OVERRIDE)")
    places = {"locked": locked, "ds": roots / "datasets", "src": _idx_source(tmp_path, lambda s: None)}
    try:
        _assert_one_error_line([arg.format(**places) for arg in argv], capsys, expected.format(**places))
    finally:
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []
