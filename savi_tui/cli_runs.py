"""``savi-tui watch`` and ``savi-tui stop``: a running experiment, from any terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from savi_tui.core import events as ev
from savi_tui.core.errors import ExperimentError

POLL_SECONDS = 0.25
WATCH_REFRESH = 2  # redraws a second
STOP_WAIT_SECONDS = 120.0  # a save takes well under a second; a loaded machine may need far more


def watch(args, experiments_root: Path, datasets_root: Path) -> int:
    """Follow a run with the training progress display until it ends; Ctrl+C leaves only the watcher."""
    from savi_tui.cli_progress import TrainingProgress
    from savi_tui.core.experiments import open_experiment, read_experiment_info
    from savi_tui.core.follow import RunFollower, started_from_disk
    from savi_tui.core.runs import resume_command

    experiment = open_experiment(experiments_root, args.name)
    if not experiment.is_running():
        raise ExperimentError(f"experiment {args.name} is not running; savi-tui show {args.name} says where it stands")
    follower = RunFollower(experiment)
    holder = follower.holder()
    progress = TrainingProgress(refresh_per_second=WATCH_REFRESH)  # a viewer: light on the trainer's CPUs
    who = holder.describe() if holder else "another process"
    progress.console.print(f"Following {args.name}, trained by {who}. Ctrl+C leaves the watcher; the run goes on.")
    said_silent = False
    try:
        with progress:
            first = True
            while True:
                update = follower.poll()
                if first and not any(isinstance(event, ev.RunStarted) for event in update.events):
                    progress.handle(started_from_disk(experiment))  # a log that lost its beginning
                first = False
                for event in update.events:
                    progress.handle(event)
                if update.problem:
                    progress.console.print(f"[yellow]{update.problem}[/yellow]")
                if update.silent_for is not None and not said_silent:
                    progress.console.print(f"[yellow]{args.name} has not reported for {update.silent_for:.0f} s[/]")
                said_silent = update.silent_for is not None
                if update.ended:
                    break
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        print(f"\nLeft the watcher; {args.name} goes on.", file=sys.stderr)
        return 130
    if follower.ended_cleanly():
        return 1 if isinstance(follower.ending, ev.Failed) else 0
    info = read_experiment_info(experiment.path)
    print(
        f"savi-tui: {args.name} stopped reporting: its trainer ended without a word (killed?). "
        f"Saved {info.position.describe()}; resume with: {resume_command(args.name, experiments_root, datasets_root)}",
        file=sys.stderr,
    )
    return 1


def stop(args, experiments_root: Path, datasets_root: Path) -> int:
    """Ask a run to stop after its batch and save; wait until it has; say how to resume."""
    from savi_tui.core.experiments import open_experiment, read_experiment_info
    from savi_tui.core.run_control import request_stop, wait_until_released
    from savi_tui.core.runs import resume_command

    experiment = open_experiment(experiments_root, args.name)
    holder = request_stop(experiment)
    print(f"Asked {args.name} ({holder.describe()}) to stop after its batch and save…", flush=True)
    if not wait_until_released(experiment, STOP_WAIT_SECONDS):
        print(f"savi-tui: error: {args.name} has not stopped after {STOP_WAIT_SECONDS:.0f} s", file=sys.stderr)
        return 1
    info = read_experiment_info(experiment.path)
    if info.state == "complete":
        print(f"{args.name} had finished all {info.epochs_planned} epochs.")
        return 0
    print(
        f"{args.name} saved {info.position.describe()}.\n"
        f"Resume with: {resume_command(args.name, experiments_root, datasets_root)}"
    )
    return 0
