"""The lesson's study, as savi-tui runs it, on the real MNIST: the figures in the README's "Results".

    python benchmarks/study_results.py --mnist ../shared/data/mnist [--root DIR] [--quick]

1. ModelFullyConnected with each of the four activations, and ModelConvNet, 3 seeds each, at the
   course's settings (-bs 512 -ne 10, Adam 1e-3).
2. The CNN ablation the course's assignment asks for, sized for 2 CPUs: ModelBetterCNN with and
   without batch norm, dropout 0 / 0.5 / 0.8, 3 seeds, 2 epochs on a tenth of MNIST (a seeded
   tenth of each split: 6,000 training and 1,000 test images).

Every group is made with `savi-tui train --seeds 0-2` (so it is queued) and trained by the
queue's one background runner; the figures are read back from the experiments, as
`savi-tui compare` reads them, and every difference is put to Welch's t-test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LESSON = [
    ("fc-" + a, ["-m", "ModelFullyConnected", "--activation", a]) for a in ("sigmoid", "relu", "tanh", "identity")
]
LESSON += [("convnet", ["-m", "ModelConvNet"])]
ABLATION = [
    (
        f"ablation-{'bn' if bn else 'nobn'}-p{p}",
        ["-m", "ModelBetterCNN", "--batchnorm" if bn else "--no-batchnorm", "--dropout", p],
    )
    for bn in (True, False)
    for p in ("0", "0.5", "0.8")
]


def cli(root: Path, datasets: Path, *argv: str) -> None:
    command = [sys.executable, "-m", "savi_tui", *argv, "-ep", str(root), "--datasets-root", str(datasets)]
    subprocess.run(command, check=True)


def wait_for_the_queue(root: Path) -> None:
    """`train --seeds` started a background runner; it works through everything queued."""
    from savi_tui.core.queue_runner import runner_is_running

    while runner_is_running(root):
        time.sleep(5)


def accuracies(root: Path) -> dict[str, list[float]]:
    from savi_tui.core.experiment_groups import best_accuracy, group_of
    from savi_tui.core.experiments import list_experiments

    groups: dict[str, list[float]] = {}
    for info in list_experiments(root):
        if group_of(info) and info.best_epoch:
            groups.setdefault(group_of(info), []).append(best_accuracy(info))
    return groups


def table(groups: dict[str, list[float]], names: list[str], baseline: str) -> list[str]:
    from savi_tui.core.group_stats import noise_statement, spread

    rows = ["| group | n | test accuracy (best epoch), mean ± std | against " + baseline + " |", "|---|---|---|---|"]
    for name in names:
        values = groups.get(name, [])
        found = spread(values)
        against = "" if name == baseline else noise_statement(values, groups.get(baseline, []))
        rows.append(f"| {name} | {len(values)} | {found.describe(percent=True) if found else '-'} | {against} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", required=True, help="folder with the four MNIST IDX files")
    parser.add_argument("--root", help="experiments root to use (default: a new temporary folder)")
    parser.add_argument("--quick", action="store_true", help="1 epoch for the lesson, fewer images: a smoke run")
    parser.add_argument("--part", choices=("all", "lesson", "ablation", "none"), default="all", help="what to train")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="savi_study_"))
    datasets = Path(tempfile.mkdtemp(prefix="savi_study_data_"))
    cli(root, datasets, "data", "import", args.mnist)
    lesson = ["-ne", "1", "-pe", "0.1"] if args.quick else ["-ne", "10"]
    ablation = ["-ne", "1", "-pe", "0.05"] if args.quick else ["-ne", "2", "-pe", "0.1"]
    parts = ("lesson", "ablation") if args.part == "all" else (args.part,)
    started = time.perf_counter()
    for part, plan, size in (("lesson", LESSON, lesson), ("ablation", ABLATION, ablation)):
        if part in parts:
            for name, flags in plan:
                cli(root, datasets, "train", *flags, "-n", name, "--seeds", "0-2", "-bs", "512", *size)
    wait_for_the_queue(root)
    groups = accuracies(root)
    lines = [f"Trained in {time.perf_counter() - started:.0f} s; experiments in {root}", ""]
    lines += table(groups, [name for name, _ in LESSON], "fc-sigmoid") + [""]
    lines += table(groups, [name for name, _ in ABLATION], "ablation-bn-p0")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
