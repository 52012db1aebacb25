"""The ``follow`` section of ``bench.py``: what following a run costs its trainer.

- images/s of a ModelConvNet training (the CLI, in a fresh process, default recipe, batch
  512, half of MNIST) with 0 and with 3 followers (``savi-tui watch`` processes, each reading
  the run's events.jsonl four times a second), alternating;
- the time the trainer spends writing events.jsonl, as a share of an epoch (in-process);
- how long after the trainer wrote an event a follower polling as the app's screen does had it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRACTION = 0.5  # 30,000 images an epoch: two epochs a run


def _train(datasets: Path, root: Path, followers: int) -> float:
    """Epoch 2's images/s (epoch 1 warms up) of a CLI training with ``followers`` watchers."""
    from savi_tui.core.experiments import Experiment
    from savi_tui.core.progress import read_progress

    argv = [sys.executable, "-m", "savi_tui", "train", "-m", "ModelConvNet", "-ne", "2", "-pe", str(FRACTION)]
    argv += ["-n", "run", "-ep", str(root), "--datasets-root", str(datasets), "--device", "cpu"]
    trainer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    experiment, watchers = Experiment(root / "run"), []
    while followers and not (experiment.events_path.exists() and experiment.is_running()):
        time.sleep(0.05)
    for _ in range(followers):
        watch = [sys.executable, "-m", "savi_tui", "watch", "run", "-ep", str(root), "--datasets-root", str(datasets)]
        watchers.append(subprocess.Popen(watch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    assert trainer.wait() == 0, "the benchmark's training failed"
    for watcher in watchers:
        watcher.wait(30)
    epoch = read_progress(experiment.progress_path).history[1]
    return 60000 * FRACTION / epoch.seconds


def section_follow(datasets: Path, repeats: int) -> dict:
    rates: dict[int, list[float]] = {0: [], 3: []}
    for _ in range(repeats):
        for followers in (0, 3):
            with tempfile.TemporaryDirectory(prefix="savi_follow_") as root:
                rates[followers].append(_train(datasets, Path(root), followers))
                print(f"  {followers} followers: {rates[followers][-1]:,.0f} img/s", file=sys.stderr)
    ratios = [b / a for a, b in zip(rates[0], rates[3], strict=True)]
    return {
        "alone": statistics.median(rates[0]),
        "followed": statistics.median(rates[3]),
        "ratios": ratios,
        **_log_cost_and_latency(datasets),
    }


def _log_cost_and_latency(datasets: Path) -> dict:
    """One epoch in this process with the log writer timed, and a follower thread beside it."""
    import threading

    from savi_tui.core.config import TrainConfig
    from savi_tui.core.follow import RunFollower
    from savi_tui.core.run_log import RunLogWriter
    from savi_tui.core.runs import new_run

    spent = [0.0]
    write = RunLogWriter.write

    def timed(self, event):
        started = time.perf_counter()
        write(self, event)
        spent[0] += time.perf_counter() - started

    RunLogWriter.write = timed
    latencies: list[float] = []
    with tempfile.TemporaryDirectory(prefix="savi_follow_") as root:
        cfg = TrainConfig(model="ModelConvNet", epochs=1, percentage=FRACTION, device="cpu")
        trainer = new_run(cfg, root=root, name="run", datasets_root=datasets)
        done = threading.Event()

        def follow() -> None:  # as the app's screen does: a look every FOLLOW_INTERVAL
            from savi_tui.tui.screens.training import FOLLOW_INTERVAL

            follower = RunFollower(trainer.experiment)
            while not done.is_set():
                read = follower.reader.read()
                if read.events and read.last_time is not None:
                    latencies.append(time.time() - read.last_time)
                time.sleep(FOLLOW_INTERVAL)

        thread = threading.Thread(target=follow)
        thread.start()
        trainer.run()
        done.set()
        thread.join()
        epoch_seconds = trainer.state.history[0].seconds
    RunLogWriter.write = write
    return {
        "log_seconds": spent[0],
        "log_share": spent[0] / epoch_seconds,
        "latency_median_ms": 1000 * statistics.median(latencies),
        "latency_max_ms": 1000 * max(latencies),
    }


def report_rows(follow: dict) -> list[str]:
    ratios = follow["ratios"]
    cost = 1 - statistics.median(ratios)
    return [
        f"| following: images/s with 3 followers / with none (ModelConvNet, median of {len(ratios)} pairs, "
        f"{100 * (1 - max(ratios)):+.1f} to {100 * (1 - min(ratios)):+.1f} %) | {follow['alone']:,.0f} (none) | "
        f"{follow['followed']:,.0f} (3) | {100 * cost:+.1f} % | within noise |",
        f"| writing events.jsonl, share of an epoch | | {100 * follow['log_share']:.3f} % "
        f"({1000 * follow['log_seconds']:.1f} ms) | | ≤ 1 % {'✓' if follow['log_share'] <= 0.01 else '✗'} |",
        f"| event written → on a follower's screen (median / max) | | {follow['latency_median_ms']:.0f} / "
        f"{follow['latency_max_ms']:.0f} ms | | ≤ 1 s {'✓' if follow['latency_max_ms'] <= 1000 else '✗'} |",
    ]


if __name__ == "__main__":  # python benchmarks/bench_follow.py DATASETS_ROOT [REPEATS]
    os.environ.setdefault("PYTHONHASHSEED", "0")
    result = section_follow(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    print(json.dumps(result, indent=2))
    print("\n".join(report_rows(result)))
