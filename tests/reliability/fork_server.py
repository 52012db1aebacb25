"""Fork server for the kill -9 test: pays for ``import torch`` once, then trains in children.

Run as ``python kill_worker.py ROOT DATASETS NAME``. For each ``run`` line on
stdin it forks a child that resumes experiment NAME with the real
``resume_run`` / ``Trainer.run`` (lock, temp sweep, checkpoints and all) and
trains until it is killed. Everything goes to stdout as one line per write:

    child PID          a child was forked
    started EPOCH      the child holds the lock and has swept temp files
    status EPOCH BATCH status.pkl was saved (CheckpointSaved)
    best EPOCH         best.pkl was saved (BestUpdated)
    exit PID CODE      the child is gone (CODE -9 after SIGKILL)

The server itself runs no torch op, so forking it is safe.
"""

from __future__ import annotations

import os
import sys


def _emit(text: str) -> None:
    os.write(1, (text + "\n").encode())  # one write per line: whole lines in the pipe


def _child(root: str, datasets: str, name: str) -> None:
    from savi_tui.core import events as ev
    from savi_tui.core.runs import resume_run

    def on_event(event) -> None:
        if isinstance(event, ev.RunStarted):
            _emit(f"started {event.start_epoch}")
        elif isinstance(event, ev.CheckpointSaved):
            _emit(f"status {event.epoch} {event.batch}")
        elif isinstance(event, ev.BestUpdated):
            _emit(f"best {event.epoch}")

    try:
        resume_run(name, root=root, datasets_root=datasets, on_event=on_event).run()
    except BaseException as error:  # report it: the test fails on any error line
        _emit(f"error {type(error).__name__}: {error}".replace("\n", " "))
        os._exit(3)
    os._exit(0)


def main() -> None:
    root, datasets, name = sys.argv[1:4]
    import matplotlib.figure  # noqa: F401 - imported once here, not in every child
    import torch  # noqa: F401
    import torchvision.datasets  # noqa: F401

    import savi_tui.core.plots  # noqa: F401
    import savi_tui.core.runs  # noqa: F401

    _emit("ready")
    for line in sys.stdin:
        if line.strip() != "run":
            break
        pid = os.fork()
        if pid == 0:
            _child(root, datasets, name)
        _emit(f"child {pid}")
        _, status = os.waitpid(pid, 0)
        _emit(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    main()
