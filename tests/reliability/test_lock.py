"""One writer per experiment (issue item 8): an OS lock that names its holder and dies with it."""

from __future__ import annotations

import socket
import subprocess

import pytest
from reliability_support import PYTHON, make_datasets_root, subprocess_env, train_tiny, tree_snapshot

from savi_tui import cli
from savi_tui.core.errors import ExperimentLocked
from savi_tui.core.experiments import delete_experiment, list_experiments, open_experiment
from savi_tui.core.runs import resume_run

HOLD = """
import sys, time
from pathlib import Path
from savi_tui.core.experiments import ExperimentLock
ExperimentLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(300)
"""


def test_a_second_writer_is_refused_naming_the_holder_and_the_lock_dies_with_a_kill_9(tmp_path, capsys):
    datasets = make_datasets_root(tmp_path, train=64, test=16)
    root = tmp_path / "experiments"
    train_tiny(root, datasets, "shared", epochs=1)
    experiment = open_experiment(root, "shared")
    racing = resume_run("shared", root=root, epochs=2, datasets_root=datasets)  # got past the check before...
    holder = subprocess.Popen(  # ... another process took the lock
        [PYTHON, "-c", HOLD, str(experiment.lock_path)], stdout=subprocess.PIPE, env=subprocess_env()
    )
    try:
        assert holder.stdout.readline() == b"held\n"
        before = tree_snapshot(root)
        holder_text = f"pid {holder.pid} host {socket.gethostname()}"
        argv = ["train", "--resume", "shared", "-ne", "2", "-ep", str(root), "--datasets-root", str(datasets)]
        assert cli.main(argv) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line == f"savi-tui: error: experiment shared is being trained by {holder_text}; " + (
            "one training per experiment"
        )
        with pytest.raises(ExperimentLocked, match=holder_text):
            racing.run()  # the OS lock itself refuses, before anything is written
        with pytest.raises(ExperimentLocked, match=holder_text):
            delete_experiment(root, "shared")
        assert list_experiments(root)[0].state == "running"
        assert tree_snapshot(root) == before
    finally:
        holder.kill()  # SIGKILL: no chance to unlock
        holder.wait(timeout=30)
    assert not experiment.is_running()
    assert list_experiments(root)[0].state == "complete"  # its one planned epoch; the resume extends it
    assert cli.main(argv) == 0
    (info,) = list_experiments(root)
    assert (info.state, info.epochs_done) == ("complete", 2)
