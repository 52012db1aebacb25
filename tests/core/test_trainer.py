"""The trainer: events, files on disk, and exact resume."""

import json

import pytest
import torch

from savi_tui.core import events as ev
from savi_tui.core import trainer as trainer_module
from savi_tui.core.checkpoint import load_checkpoint
from savi_tui.core.config import TrainConfig
from savi_tui.core.experiments import open_experiment
from savi_tui.core.progress import read_progress
from savi_tui.core.runs import new_run, resume_run
from tests.conftest import start_run


def config(**overrides):
    values = dict(model="ModelFullyConnected", batch_size=32, epochs=4, seed=7)
    values.update(overrides)
    return TrainConfig(**values)


def train(root, datasets, name, cfg, stop_when=None):
    """Run to the end, or until ``stop_when(event)`` asks for a stop; return the events."""
    trainer, seen = start_run(root, datasets, cfg, name=name, stop_when=stop_when)
    return trainer.run(), seen


def resume(root, datasets, name, **kwargs):
    seen = []
    outcome = resume_run(name, root=root, datasets_root=datasets, on_event=seen.append, **kwargs).run()
    return outcome, seen


def assert_same_state(root, first, second):
    a = load_checkpoint(open_experiment(root, first).status_path)
    b = load_checkpoint(open_experiment(root, second).status_path)
    assert a.model_state_dict.keys() == b.model_state_dict.keys()
    for key in a.model_state_dict:
        assert torch.equal(a.model_state_dict[key], b.model_state_dict[key]), key
    state_a, state_b = a.optimizer_state_dict["state"], b.optimizer_state_dict["state"]
    assert state_a.keys() == state_b.keys()
    for index in state_a:
        for key in state_a[index]:
            assert torch.equal(state_a[index][key], state_b[index][key]), (index, key)
    assert a.train_losses == b.train_losses and a.test_losses == b.test_losses
    return a, b


def test_events_come_in_order_and_files_are_written(tmp_path, tiny_mnist_root):
    outcome, seen = train(tmp_path, tiny_mnist_root, "run", config(epochs=2))
    assert outcome == "finished"
    kinds = [type(e).__name__ for e in seen if not isinstance(e, ev.BatchProgress)]
    assert kinds[0] == "RunStarted" and kinds[-1] == "Finished"
    assert kinds.count("EpochFinished") == 2 and kinds.count("CheckpointSaved") == 2
    folder = tmp_path / "run"
    for name in ("config.json", "status.pkl", "best.pkl", "statistics.json", "training.png", "summary.txt"):
        assert (folder / name).is_file(), name
    assert (folder / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Total params: 101,770" in (folder / "summary.txt").read_text()


def test_status_holds_the_course_keys_and_only_safe_values(tmp_path, tiny_mnist_root):
    train(tmp_path, tiny_mnist_root, "run", config(epochs=2))
    status = torch.load(tmp_path / "run" / "status.pkl", weights_only=True)
    assert status["epoch_idx"] == 1 and status["batch_idx"] == 0
    assert len(status["train_losses"]) == len(status["test_losses"]) == 2
    assert {"model_state_dict", "optimizer_state_dict", "rng_state", "config", "format_version"} <= status.keys()


def test_best_is_the_lowest_test_loss_and_statistics_describe_it(tmp_path, tiny_mnist_root):
    _, seen = train(tmp_path, tiny_mnist_root, "run", config(epochs=3))
    records = [e.record for e in seen if isinstance(e, ev.EpochFinished)]
    best = min(records, key=lambda r: r.test_loss)
    best_file = load_checkpoint(tmp_path / "run" / "best.pkl")
    assert best_file.best_epoch == best.epoch and best_file.kind == "best"
    statistics = json.loads((tmp_path / "run" / "statistics.json").read_text())
    assert statistics["epoch"] == best.epoch and statistics["checkpoint"] == "best.pkl"
    assert [c["digit"] for c in statistics["per_class"]] == list(range(10))
    assert set(statistics["global"]) == {"TP", "FP", "FN", "precision", "recall", "f1_score"}
    assert sum(map(sum, statistics["confusion_matrix"])) == 64
    assert statistics["global"]["f1_score"] == pytest.approx(best.f1)


def test_four_epochs_equal_two_then_resume_to_four_bit_for_bit(tmp_path, tiny_mnist_root):
    train(tmp_path, tiny_mnist_root, "straight", config(epochs=4))
    outcome, _ = train(
        tmp_path,
        tiny_mnist_root,
        "split",
        config(epochs=4),
        stop_when=lambda e: isinstance(e, ev.EpochFinished) and e.record.epoch == 2,
    )
    assert outcome == "stopped"
    assert load_checkpoint(tmp_path / "split" / "status.pkl").epochs_done == 2
    outcome, seen = resume(tmp_path, tiny_mnist_root, "split")
    assert outcome == "finished"
    started = seen[0]
    assert (started.start_epoch, started.start_batch, len(started.history)) == (3, 0, 2)
    assert [e.record.epoch for e in seen if isinstance(e, ev.EpochFinished)] == [3, 4]
    a, _ = assert_same_state(tmp_path, "straight", "split")
    assert len(a.train_losses) == 4  # the saved epoch is not trained or counted twice


def test_resume_with_more_epochs_extends_like_the_course(tmp_path, tiny_mnist_root):
    train(tmp_path, tiny_mnist_root, "straight", config(epochs=4))
    train(tmp_path, tiny_mnist_root, "extended", config(epochs=2))
    outcome, _ = resume(tmp_path, tiny_mnist_root, "extended", epochs=4)
    assert outcome == "finished"
    assert open_experiment(tmp_path, "extended").read_config().epochs == 4
    assert_same_state(tmp_path, "straight", "extended")


def test_stop_inside_an_epoch_resumes_at_that_batch_bit_for_bit(tmp_path, tiny_mnist_root, monkeypatch):
    monkeypatch.setattr(trainer_module, "PROGRESS_INTERVAL", 0.0)  # a BatchProgress after every batch
    cfg = config(epochs=3, model="ModelBetterCNN")  # dropout and batchnorm: RNG state matters
    train(tmp_path, tiny_mnist_root, "straight", cfg)
    outcome, _ = train(
        tmp_path,
        tiny_mnist_root,
        "split",
        cfg,
        stop_when=lambda e: isinstance(e, ev.BatchProgress) and (e.epoch, e.batch) == (2, 3),
    )
    assert outcome == "stopped"
    saved = load_checkpoint(tmp_path / "split" / "status.pkl")
    assert (saved.epochs_done, saved.batch_idx) == (1, 3)
    _, seen = resume(tmp_path, tiny_mnist_root, "split")
    assert (seen[0].start_epoch, seen[0].start_batch) == (2, 3)
    first_progress = next(e for e in seen if isinstance(e, ev.BatchProgress))
    assert (first_progress.epoch, first_progress.batch) == (2, 4)
    assert_same_state(tmp_path, "straight", "split")


def test_stopped_event_says_how_to_resume(tmp_path, tiny_mnist_root):
    _, seen = train(tmp_path, tiny_mnist_root, "run", config(), stop_when=lambda e: isinstance(e, ev.RunStarted))
    stopped = seen[-1]
    assert isinstance(stopped, ev.Stopped) and stopped.position.describe() == "at the start of epoch 1"
    assert "savi-tui train --resume run" in stopped.resume_command
    progress = read_progress(tmp_path / "run" / "progress.json")
    assert progress.finished is False and progress.epochs_done == 0


def test_a_second_trainer_on_the_same_experiment_is_refused(tmp_path, tiny_mnist_root):
    from savi_tui.core.errors import ExperimentLocked

    trainer = new_run(config(), root=tmp_path, name="run", datasets_root=tiny_mnist_root)
    with trainer.experiment.lock():
        with pytest.raises(ExperimentLocked, match=r"pid \d+ host"):
            resume_run("run", root=tmp_path, datasets_root=tiny_mnist_root)


def test_the_resume_command_is_runnable_as_printed(tmp_path):
    import shlex

    from savi_tui.core.runs import resume_command

    root, datasets = tmp_path / "my experiments", tmp_path / "data sets"
    command = resume_command("run", root, datasets)
    assert shlex.split(command) == [
        "savi-tui",
        "train",
        "--resume",
        "run",
        "-ep",
        str(root),
        "--datasets-root",
        str(datasets),
    ]
    assert resume_command("run") == "savi-tui train --resume run"


def test_a_run_collects_the_garbage_an_earlier_freeze_kept(tmp_path, tiny_mnist_root):
    """As the app's list freezes the previous run while it is still referenced: once the next run
    drops it, that run's first settling collects it, instead of holding its model through the run."""
    import gc
    import weakref

    class Previous:
        pass

    previous = Previous()
    previous.cycle = previous  # a reference cycle, as a run and its trainer are
    still_there = weakref.ref(previous)
    gc.freeze()
    del previous
    collected = []

    def on_event(event):
        if isinstance(event, ev.BatchProgress):
            collected.append(still_there() is None)

    cfg = TrainConfig(model="ModelFullyConnected", batch_size=64, epochs=1, seed=1, device="cpu")
    try:
        assert new_run(cfg, root=tmp_path, name="gc", datasets_root=tiny_mnist_root, on_event=on_event).run()
    finally:
        gc.unfreeze()
    assert collected and all(collected)


def test_training_keeps_the_collector_off_long_lived_objects_and_gives_them_back(tmp_path, tiny_mnist_root):
    import gc

    frozen_while_training = []

    def on_event(event):
        if isinstance(event, ev.BatchProgress):
            frozen_while_training.append(gc.get_freeze_count())

    cfg = TrainConfig(model="ModelFullyConnected", batch_size=64, epochs=2, seed=1, device="cpu")
    assert gc.get_freeze_count() == 0
    assert new_run(cfg, root=tmp_path, name="gc", datasets_root=tiny_mnist_root, on_event=on_event).run() == "finished"
    # torch, the data and the model (tens of thousands of objects) are out of the full collections' way...
    assert frozen_while_training and min(frozen_while_training) > 10_000
    assert gc.get_freeze_count() == 0  # ...and the collector's again once the run is over


def test_an_epoch_resumed_mid_way_counts_the_seconds_it_had_before_the_stop(tmp_path, tiny_mnist_root, monkeypatch):
    monkeypatch.setattr(trainer_module, "PROGRESS_INTERVAL", 0.0)
    clock, step = [1000.0], [0.5]

    def slow_clock():  # each look at the clock is ``step`` seconds later than the one before
        clock[0] += step[0]
        return clock[0]

    monkeypatch.setattr(trainer_module.time, "perf_counter", slow_clock)
    stop = lambda e: isinstance(e, ev.BatchProgress) and (e.epoch, e.batch) == (1, 3)  # noqa: E731
    outcome, _ = train(tmp_path, tiny_mnist_root, "split", config(epochs=1), stop_when=stop)
    assert outcome == "stopped"
    before_stop = load_checkpoint(tmp_path / "split" / "status.pkl").partial_epoch.seconds
    assert before_stop >= 3 * 0.5  # three batches, each at least one look at the clock
    step[0] = 0.0  # the resumed part takes no time at all
    _, seen = resume(tmp_path, tiny_mnist_root, "split")
    finished = next(e for e in seen if isinstance(e, ev.EpochFinished))
    assert finished.record.seconds == before_stop  # the whole epoch, not only its resumed part
