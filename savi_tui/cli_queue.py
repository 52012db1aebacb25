"""``savi-tui queue``: list, add, cancel and move planned runs; ``run`` works them through.

``queue run`` trains in this process, one run after another. The first SIGINT, SIGTERM or SIGHUP
stops the current run at its next batch and saves it; it stays first in the queue and the runner
exits (after a SIGHUP a background runner goes on with it). A second SIGINT/SIGTERM exits at once.
SIGUSR1 (``savi-tui stop NAME``) stops the current run only: it leaves the queue as "stopped" and
the runner goes on with the next one.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from savi_tui.core.queue import RunQueue
from savi_tui.core.run_control import STOP_REQUEST

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def queue(args, experiments_root: Path, datasets_root: Path) -> int:
    return {
        "list": _list,
        "add": _add,
        "cancel": _cancel,
        "move": _move,
        "run": _run,
    }[args.queue_command](args, experiments_root, datasets_root)


def _list(args, experiments_root: Path, datasets_root: Path) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from savi_tui.core.experiments import Experiment
    from savi_tui.core.queue_runner import runner_is_running

    entries = RunQueue(experiments_root).entries()
    console = Console(width=None if sys.stdout.isatty() else 160)
    if not entries:
        console.print(f"The queue of {experiments_root} is empty. Queue a group with: savi-tui train --seeds 0-2")
        return 0
    runner = "a runner is working on it" if runner_is_running(experiments_root) else "no runner is running"
    table = Table(title=f"Queue of {experiments_root} ({runner})", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("#", "state", "name", "model", "group", "note"):
        table.add_column(column, justify="right" if column == "#" else "left")
    for number, entry in enumerate(entries, 1):
        try:
            model = Experiment(experiments_root / entry.name).read_config().model
        except Exception:  # a deleted or damaged experiment: the queue still lists it
            model = "?"
        note = entry.error or (f"since {entry.started}" if entry.state == "running" else "")
        table.add_row(str(number), entry.state, entry.name, model, entry.group or "", note)
    console.print(table)
    return 0


def _add(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.experiments import open_experiment

    for name in args.names:
        open_experiment(experiments_root, name)
    RunQueue(experiments_root).add(args.names)
    print(f"queued {', '.join(args.names)}")
    return _start_runner(experiments_root, datasets_root)


def _cancel(args, experiments_root: Path, datasets_root: Path) -> int:
    RunQueue(experiments_root).cancel(args.name)
    print(f"cancelled {args.name}; its experiment folder stays (savi-tui queue add {args.name} queues it again)")
    return 0


def _move(args, experiments_root: Path, datasets_root: Path) -> int:
    RunQueue(experiments_root).move(args.name, args.where)
    planned = [e.name for e in RunQueue(experiments_root).entries() if e.state == "planned"]
    print(f"moved {args.name} {args.where}: planned now {', '.join(planned)}")
    return 0


def _start_runner(experiments_root: Path, datasets_root: Path) -> int:
    """A background runner, unless one is there; prints which."""
    from savi_tui.core.queue_runner import RUNNER_LOG, runner_is_running, start_runner_if_needed

    pid = start_runner_if_needed(experiments_root, datasets_root)
    if pid is not None:
        log = experiments_root / RUNNER_LOG
        print(f"a queue runner works through the queue in the background (pid {pid}); output in {log}")
    elif runner_is_running(experiments_root):
        print("the queue runner already running takes them in turn")
    else:
        print(f"nothing to run: the queue of {experiments_root} has no planned run")
    return 0


def _run(args, experiments_root: Path, datasets_root: Path) -> int:
    if args.detach:
        from savi_tui.core.queue_runner import RunnerBusy, runner_is_running, runner_lock

        if runner_is_running(experiments_root):
            holder = runner_lock(experiments_root).holder()
            raise RunnerBusy(f"a queue runner is already running in {experiments_root} ({holder})")
        return _start_runner(experiments_root, datasets_root)
    from savi_tui.core.queue_runner import QueueRunner

    runner = QueueRunner(experiments_root, datasets_root, train=_train_one, on_verdict=_say_verdict)
    received: list[int] = []

    def on_signal(signum, frame) -> None:
        if signum == STOP_REQUEST:
            runner.stop_current()
            return
        received.append(signum)
        if len(received) > 1 and signum != signal.SIGHUP:
            os.write(2, b"\nsavi-tui: second signal, exiting now; the last saved checkpoint is kept\n")
            os._exit(128 + signum)
        _say(f"savi-tui: {signal.Signals(signum).name}: saving the current run and leaving the queue as it is")
        runner.request_exit()

    previous = {signum: signal.signal(signum, on_signal) for signum in (*EXIT_SIGNALS, STOP_REQUEST)}
    try:
        outcome = runner.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if outcome == "empty":
        _say("savi-tui: the queue has no planned run left")
        return 0
    if received and received[0] == signal.SIGHUP:  # the terminal went away: the queue goes on without it
        from savi_tui.core.queue_runner import start_runner_if_needed

        pid = start_runner_if_needed(experiments_root, datasets_root)
        _say(f"savi-tui: the terminal went away; the queue goes on in the background (pid {pid})")
    return 128 + int(received[0] if received else signal.SIGINT)


def _train_one(trainer) -> str:
    from savi_tui.cli_progress import TrainingProgress

    progress = TrainingProgress()
    trainer.on_event = progress.handle
    _say(f"savi-tui: queue: training {trainer.experiment.name}")
    with progress:
        return trainer.run()


def _say_verdict(name: str, state: str, error: str | None) -> None:
    _say(f"savi-tui: queue: {name} {state}" + (f": {error}" if error else ""))


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # no terminal any more
        pass
