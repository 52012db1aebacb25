"""Reproduce the course's reported results with savi-tui's default recipe.

Trains ModelFullyConnected and ModelConvNet with ``-bs 512 -ne 10`` on the real
MNIST through the CLI, exactly as a user would, and prints the global
precision, recall and F1 of each best checkpoint (from ``statistics.json``)
beside the course's targets (0.95 and 0.99, rounded to two decimals).

    python benchmarks/course_results.py --mnist ../shared/data/mnist [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"ModelFullyConnected": 0.95, "ModelConvNet": 0.99}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", required=True, help="folder with the four MNIST IDX files (.gz or raw)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", help="write the results as JSON here too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="savi_course_"))
    datasets, experiments = work / "datasets", work / "experiments"
    cli = [sys.executable, "-m", "savi_tui"]
    subprocess.run([*cli, "data", "import", args.mnist, "--datasets-root", str(datasets)], check=True)
    results = []
    for model, target in TARGETS.items():
        started = time.perf_counter()
        subprocess.run(
            [
                *cli,
                "train",
                "-m",
                model,
                "-bs",
                "512",
                "-ne",
                str(args.epochs),
                "-n",
                model,
                "-ep",
                str(experiments),
                "--datasets-root",
                str(datasets),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
        stats = json.loads((experiments / model / "statistics.json").read_text())
        glob = stats["global"]
        passed = all(round(glob[key], 2) >= target for key in ("precision", "recall", "f1_score"))
        results.append(
            {
                "model": model,
                "epochs": args.epochs,
                "best_epoch": stats["epoch"],
                "precision": glob["precision"],
                "recall": glob["recall"],
                "f1_score": glob["f1_score"],
                "target": target,
                "passed": passed,
                "wall_seconds": round(seconds, 1),
            }
        )
    print(f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}")
    print("| model | best epoch | precision | recall | F1 | target | wall time |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['model']} | {r['best_epoch']} / {r['epochs']} | {r['precision']:.4f} | {r['recall']:.4f} | "
            f"{r['f1_score']:.4f} | ≥ {r['target']} {'✓' if r['passed'] else '✗'} | {r['wall_seconds']} s |"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
