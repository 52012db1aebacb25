"""Fork server for the kill -9 and signal tests: pays for ``import torch`` once, then forks.

Run as ``python fork_server.py``. Each line on stdin forks one child:

    resume ROOT DATASETS NAME   resume experiment NAME with the real ``resume_run`` /
                                ``Trainer.run`` (lock, temp sweep, checkpoints) until killed
    cli ARGV_AS_JSON            run the real CLI, ``savi_tui.cli.main(argv)``, signal handlers
                                and all; its stderr goes to this server's stderr

and writes to stdout, one line per write:

    child PID          a child was forked
    started EPOCH      (resume) the child holds the lock and has swept temp files
    status EPOCH BATCH (resume) status.pkl was saved (CheckpointSaved)
    best EPOCH         (resume) best.pkl was saved (BestUpdated)
    exit PID CODE      the child is gone (CODE -9 after SIGKILL)

The server itself runs no torch op, so forking it is safe. With FORK_SERVER_CPUS=N in
its environment it runs on N CPUs only, and so do its children and their thread pools.
"""

from __future__ import annotations

import json
import os
import sys


def _emit(text: str) -> None:
    os.write(1, (text + "\n").encode())  # one write per line: whole lines in the pipe


def _resume(root: str, datasets: str, name: str) -> int:
    from savi_tui.core import events as ev
    from savi_tui.core.runs import resume_run

    def on_event(event) -> None:
        if isinstance(event, ev.RunStarted):
            _emit(f"started {event.start_epoch}")
        elif isinstance(event, ev.CheckpointSaved):
            _emit(f"status {event.position.epochs_done} {event.position.batch}")
        elif isinstance(event, ev.BestUpdated):
            _emit(f"best {event.epoch}")

    try:
        resume_run(name, root=root, datasets_root=datasets, on_event=on_event).run()
    except BaseException as error:  # report it: the test fails on any error line
        _emit(f"error {type(error).__name__}: {error}".replace("\n", " "))
        return 3
    return 0


def _cli(argv: list[str]) -> int:
    from savi_tui import cli

    return cli.main(argv)


def _child(command: str, rest: str) -> None:
    code = 1
    try:
        code = _resume(*rest.split()) if command == "resume" else _cli(json.loads(rest))
    finally:
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    cpus = int(os.environ.get("FORK_SERVER_CPUS", "0"))
    if cpus:  # the trainer sizes its thread pool by this affinity (core.device.available_cpus)
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cpus])
    import matplotlib.figure  # noqa: F401 - imported once here, not in every child
    import rich.progress  # noqa: F401
    import torch  # noqa: F401
    import torchvision.datasets  # noqa: F401

    import savi_tui.cli  # noqa: F401
    import savi_tui.cli_progress  # noqa: F401
    import savi_tui.core.plots  # noqa: F401
    import savi_tui.core.runs  # noqa: F401

    _emit("ready")
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command not in ("resume", "cli"):
            break
        pid = os.fork()
        if pid == 0:
            _child(command, rest)
        _emit(f"child {pid}")
        _, status = os.waitpid(pid, 0)
        _emit(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    main()
