"""The queue file and its changes, seeds and groups, and the queue on the command line (no runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from savi_tui.cli import main
from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ConfigError, ExperimentError
from savi_tui.core.experiments import ExperimentState, create_experiment, delete_experiment, list_experiments
from savi_tui.core.lock import ExperimentLock
from savi_tui.core.queue import QUEUE_FILE, RunQueue
from savi_tui.core.queue_runner import runner_is_running, runner_lock, start_runner_if_needed
from savi_tui.core.seed_groups import MAX_SEEDS, create_group, parse_seeds

REPO = Path(__file__).resolve().parents[2]


def states(queue: RunQueue) -> list[tuple[str, str]]:
    return [(entry.name, entry.state) for entry in queue.entries()]


def test_the_queue_file_round_trips_through_a_fresh_reader(tmp_path):
    queue = RunQueue(tmp_path)
    assert queue.entries() == [] and not queue.has_unfinished()
    queue.add(["a", "b"], group="g")
    queue.add(["c"])
    queue.mark("b", "done")
    again = RunQueue(tmp_path).entries()
    expected = [("a", "planned", "g"), ("b", "done", "g"), ("c", "planned", None)]
    assert [(e.name, e.state, e.group) for e in again] == expected
    assert again[1].ended is not None and again[0].ended is None and again[0].added
    data = json.loads((tmp_path / QUEUE_FILE).read_text())
    assert data["version"] == 1 and [e["name"] for e in data["entries"]] == ["a", "b", "c"]
    assert RunQueue(tmp_path).planned_names() == {"a", "c"} and queue.has_unfinished()


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '{"version": 99, "entries": []}', '{"version": 1, "entries": [{"name": "a"}]}']
)
def test_a_damaged_queue_file_is_refused_in_one_line_and_lists_nothing_as_queued(tmp_path, text):
    (tmp_path / QUEUE_FILE).write_text(text)
    with pytest.raises(ConfigError, match="queue") as caught:
        RunQueue(tmp_path).entries()
    assert "\n" not in str(caught.value)
    assert RunQueue(tmp_path).planned_names() == set()


def test_a_run_already_waiting_cannot_be_queued_twice_and_a_failed_change_writes_nothing(tmp_path):
    queue = RunQueue(tmp_path)
    queue.add(["a"])
    with pytest.raises(ExperimentError, match="already in the queue"):
        queue.add(["b", "a"])
    assert states(queue) == [("a", "planned")]


def test_a_cancelled_run_queued_again_goes_to_the_end_with_its_group(tmp_path):
    queue = RunQueue(tmp_path)
    queue.add(["a", "b"], group="g")
    queue.cancel("a")
    assert states(queue) == [("a", "cancelled"), ("b", "planned")]
    queue.add(["a"])
    assert [(e.name, e.state, e.group) for e in queue.entries()] == [("b", "planned", "g"), ("a", "planned", "g")]


def test_only_a_planned_run_can_be_cancelled(tmp_path):
    queue = RunQueue(tmp_path)
    queue.add(["a", "b"])
    queue.mark("a", "running")
    with pytest.raises(ExperimentError, match="running, not planned.*savi-tui stop a"):
        queue.cancel("a")
    with pytest.raises(ExperimentError, match="not in the queue"):
        queue.cancel("zz")


def test_moving_reorders_only_the_planned_runs(tmp_path):
    queue = RunQueue(tmp_path)
    queue.add(["done", "a", "b", "c"])
    queue.mark("done", "done")
    queue.move("c", "up")
    assert [n for n, _ in states(queue)] == ["done", "a", "c", "b"]
    queue.move("b", "first")
    assert [n for n, _ in states(queue)] == ["done", "b", "a", "c"]
    queue.move("b", "up")  # already first: stays
    queue.move("b", "last")
    assert [n for n, _ in states(queue)] == ["done", "a", "c", "b"]
    queue.move("a", "down")
    assert [n for n, _ in states(queue)] == ["done", "c", "a", "b"]
    with pytest.raises(ExperimentError, match="only planned runs move"):
        queue.move("done", "up")
    with pytest.raises(ConfigError, match="unknown move"):
        queue.move("a", "sideways")


def test_the_runner_takes_a_run_left_running_first_and_skips_one_trained_elsewhere(tmp_path):
    queue = RunQueue(tmp_path)
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    queue.add(["a", "b", "c"])
    queue.mark("c", "running")  # its runner died: nobody holds its lock
    assert queue.take_next().name == "c"
    queue.mark("c", "done")
    with ExperimentLock(tmp_path / "a" / ".lock"):  # someone trains a by hand
        taken = queue.take_next()
        assert taken.name == "b" and taken.state == "running" and taken.started
        queue.mark("b", "done")
        assert queue.take_next() is False  # only a is left, and it is busy
    assert queue.take_next().name == "a"
    queue.mark("a", "done")
    emptied = []
    assert queue.take_next(when_empty=lambda: emptied.append(True)) is None and emptied == [True]


CHANGER = """
import sys
from savi_tui.core.queue import RunQueue
queue = RunQueue(sys.argv[1])
for index in range(int(sys.argv[3])):
    queue.add([f"{sys.argv[2]}{index}"])
    if index % 3 == 0:
        queue.cancel(f"{sys.argv[2]}{index}")
"""


def test_two_processes_changing_the_queue_at_once_lose_nothing(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    count = 60
    processes = [
        subprocess.Popen([sys.executable, "-c", CHANGER, str(tmp_path), prefix, str(count)], env=env)
        for prefix in ("x", "y")
    ]
    assert [p.wait(120) for p in processes] == [0, 0]
    entries = dict(states(RunQueue(tmp_path)))
    expected = {f"{p}{i}": "cancelled" if i % 3 == 0 else "planned" for p in "xy" for i in range(count)}
    assert entries == expected


def test_a_runner_is_started_only_for_queued_work_and_only_when_none_runs(tmp_path):
    assert start_runner_if_needed(tmp_path, tmp_path) is None  # nothing queued
    RunQueue(tmp_path).add(["a"])
    RunQueue(tmp_path).cancel("a")
    assert start_runner_if_needed(tmp_path, tmp_path) is None  # nothing left to do
    RunQueue(tmp_path).add(["a"])
    with runner_lock(tmp_path):  # a runner is there
        assert runner_is_running(tmp_path)
        assert start_runner_if_needed(tmp_path, tmp_path) is None


# -- seeds and groups ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, seeds",
    [("0-4", [0, 1, 2, 3, 4]), ("0,3,7", [0, 3, 7]), (" 7 , 0-1 ", [7, 0, 1]), ("5", [5]), ("0-2,9", [0, 1, 2, 9])],
)
def test_seeds_are_ranges_and_lists(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "give a range"),
        ("0,,2", "give a range"),
        ("a-b", "not a seed"),
        ("-1", "not a seed"),
        ("1.5", "not a seed"),
        ("4-0", "runs backwards"),
        ("0-3,2", "given twice"),
        ("1,1", "given twice"),
        (f"0-{MAX_SEEDS}", f"at most {MAX_SEEDS}"),
        ("0-99999999999999999999", f"at most {MAX_SEEDS}"),
        ("99999999999999999999", "seed must be"),
    ],
)
def test_bad_seeds_are_refused_in_one_line(text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_seeds(text)
    assert "\n" not in str(caught.value)


def test_a_group_of_three_makes_three_experiments_queued_in_order(tmp_path, tiny_mnist_root):
    config = TrainConfig(epochs=2, batch_size=32, device="cpu")
    made = create_group(config, [0, 1, 2], root=tmp_path, name="study", datasets_root=tiny_mnist_root)
    assert [e.name for e in made] == ["study-s0", "study-s1", "study-s2"]
    for seed, experiment in enumerate(made):
        saved = experiment.read_config()
        assert (saved.group, saved.seed, saved.epochs, saved.batch_size) == ("study", seed, 2, 32)
    queue = RunQueue(tmp_path)
    assert states(queue) == [("study-s0", "planned"), ("study-s1", "planned"), ("study-s2", "planned")]
    assert {e.group for e in queue.entries()} == {"study"}
    infos = {info.name: info.state for info in list_experiments(tmp_path)}
    assert infos == dict.fromkeys(["study-s0", "study-s1", "study-s2"], ExperimentState.QUEUED)


def test_a_group_that_would_reuse_a_name_makes_nothing(tmp_path, tiny_mnist_root):
    create_experiment(tmp_path, "study-s2", TrainConfig())
    with pytest.raises(ExperimentError, match="study-s2.*already exists"):
        create_group(TrainConfig(), [0, 1, 2], root=tmp_path, name="study", datasets_root=tiny_mnist_root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study-s2"]


def test_only_planned_runs_are_listed_as_queued(tmp_path):
    for name in ("planned", "cancelled", "complete"):
        create_experiment(tmp_path, name, TrainConfig())
    queue = RunQueue(tmp_path)
    queue.add(["planned", "cancelled"])
    queue.cancel("cancelled")
    assert {i.name: i.state for i in list_experiments(tmp_path)} == {
        "planned": "queued",
        "cancelled": "interrupted",
        "complete": "interrupted",
    }


def test_deleting_an_experiment_takes_it_out_of_the_queue(tmp_path):
    for name in ("kept", "deleted", "deleted-later"):
        create_experiment(tmp_path, name, TrainConfig())
    queue = RunQueue(tmp_path)
    queue.add(["deleted", "kept", "deleted-later"])
    queue.take_next()  # "deleted" left running by a runner that died
    queue.cancel("deleted-later")
    delete_experiment(tmp_path, "deleted")
    delete_experiment(tmp_path, "deleted-later")
    assert states(queue) == [("kept", "planned")]
    queue.mark("deleted", "failed")  # the verdict of a runner that took it just before: nothing to mark
    assert [entry.name for entry in [queue.take_next()]] == ["kept"]


# -- the command line ---------------------------------------------------------


@pytest.fixture
def roots(tmp_path, tiny_mnist_root):
    return ["-ep", str(tmp_path / "exps"), "--datasets-root", str(tiny_mnist_root)]


@pytest.mark.parametrize("seeds", ["3-1", "0,0", "x", "0-200"])
def test_train_with_bad_seeds_exits_2_in_one_line_and_makes_nothing(roots, tmp_path, capsys, seeds):
    assert main(["train", "-n", "g", "--seeds", seeds, *roots]) == 2
    err = capsys.readouterr().err
    assert err.startswith("savi-tui: error: seeds") and err.count("\n") == 1
    assert not (tmp_path / "exps").exists() or not any((tmp_path / "exps").iterdir())


def test_queue_list_cancel_and_move_on_the_command_line(roots, tmp_path, capsys):
    exps = tmp_path / "exps"
    for name in ("a", "b", "c"):
        create_experiment(exps, name, TrainConfig(model="ModelConvNet"))
    RunQueue(exps).add(["a", "b", "c"])
    assert main(["queue", "move", "c", "first", *roots]) == 0
    assert "planned now c, a, b" in capsys.readouterr().out
    assert main(["queue", "cancel", "a", *roots]) == 0
    assert "folder stays" in capsys.readouterr().out and (exps / "a" / "config.json").exists()
    assert main(["queue", "list", *roots]) == 0
    listing = [line.split() for line in capsys.readouterr().out.splitlines()]
    rows = [row[:4] for row in listing if row and row[0].isdigit()]
    model = "ModelConvNet"
    assert rows == [["1", "planned", "c", model], ["2", "cancelled", "a", model], ["3", "planned", "b", model]]
    assert main(["queue", "cancel", "a", *roots]) == 2
    assert "cancelled, not planned" in capsys.readouterr().err
    assert main(["queue", "move", "nothere", "up", *roots]) == 2
