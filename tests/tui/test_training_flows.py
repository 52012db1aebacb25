"""The flows a user goes through with real (tiny) trainings: start, Ctrl+C, resume, quit, signals, export."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from textual.widgets import Input, Static
from tui_helpers import NAME, make_app, make_experiment, open_form, start_training, wait_for

from savi_tui.core.config import TrainConfig
from savi_tui.core.experiments import read_experiment_info
from savi_tui.core.progress import read_progress
from savi_tui.core.runs import new_run
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.export import ExportScreen
from savi_tui.tui.screens.new_experiment import NewExperimentScreen
from savi_tui.tui.screens.quit_training import QuitTrainingScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.widgets.loss_chart import LossChart


@pytest.fixture
def gentle_trainer(monkeypatch):
    """Long trainings that leave the CPU to the UI: a short sleep after every batch (2 cores, shared)."""
    from savi_tui.core.trainer import Trainer

    monkeypatch.setattr(Trainer, "after_batch", lambda trainer: time.sleep(0.05))


@pytest.fixture
def held_after_first_batch(monkeypatch):
    """The training waits after its first batch until the test lets it go, so a Ctrl+C lands
    inside the epoch however fast the machine is (a tiny run can finish before the first look)."""
    from savi_tui.core import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "PROGRESS_INTERVAL", 0.0)  # an event after every batch
    release = threading.Event()
    monkeypatch.setattr(trainer_module.Trainer, "after_batch", lambda trainer: release.wait(30))
    return release


def progress_of(root, name=NAME):
    return read_progress(root / name / "progress.json")


async def test_new_training_ctrl_c_saves_then_resume_from_the_list_completes(
    tmp_path, tiny_mnist_root, held_after_first_batch
):
    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(120, 40)) as pilot:
        run = await start_training(pilot, epochs=3, batch_size=16)
        screen = app.screen
        await pilot.press("ctrl+c")
        assert any(n.message == "Stopping after this batch — saving…" for n in app._notifications)
        assert run.view.state == "stopping"
        held_after_first_batch.set()
        await wait_for(pilot, lambda: run.view.state == "stopped", what="the save")
        await pilot.pause()
        status = str(screen.query_one("#run-status", Static).content)
        assert "Saved in epoch 1 at batch 1 of 16." in status and f"savi-tui train --resume {NAME}" in status
        saved_epoch, saved_batch = run.view.saved_at.epochs_done, run.view.saved_at.batch
        assert (saved_epoch, saved_batch) == (0, 1)  # inside the first epoch, after its first batch
        assert (root / NAME / "status.pkl").is_file()
        assert progress_of(root).batch_idx == saved_batch and progress_of(root).epochs_done == saved_epoch
        assert not progress_of(root).finished

        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ExperimentsScreen)
                and app.screen.infos
                and app.screen.infos[0].state == "interrupted"
            ),
            what="the list to show it interrupted",
        )
        await pilot.press("r")
        resumed = app.training.active_run
        assert resumed is not run and isinstance(app.screen, TrainingScreen)
        await wait_for(pilot, lambda: resumed.view.state == "finished", timeout=60, what="the resumed run to finish")
        started = next(line for line in resumed.view.log if line.startswith("Resumed at"))
        assert f"epoch {saved_epoch + 1}/3" in started
        assert (f"batch {saved_batch}/16" in started) == (saved_batch > 0)
        assert [r.epoch for r in app.screen.query_one(LossChart).history] == [1, 2, 3]
    info = read_experiment_info(root / NAME)
    assert info.state == "complete" and info.epochs_done == 3


async def test_a_second_ctrl_c_while_saving_quits_at_once(tmp_path, tiny_mnist_root, monkeypatch, gentle_trainer):
    from savi_tui.core.trainer import Trainer

    saving = threading.Event()

    def slow_save(trainer):  # a slow disk: the save takes a while
        saving.set()
        time.sleep(1.5)

    monkeypatch.setattr(Trainer, "before_save", slow_save)
    app = make_app(tmp_path / "e", tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await start_training(pilot, epochs=50)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: saving.is_set(), what="the save to begin")
        await pilot.press("ctrl+c")
        assert app.return_code == 130 and app.training.hard_quit  # did not wait for the save
        assert run.live
    assert run.done.wait(30)  # (run_app leaves with os._exit; here the thread finishes its save)


async def test_q_while_training_asks_and_keep_training_keeps_it(tmp_path, tiny_mnist_root, gentle_trainer):
    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await start_training(pilot, epochs=50)
        await pilot.press("q")
        assert isinstance(app.screen, QuitTrainingScreen)
        await pilot.press("n")
        assert isinstance(app.screen, TrainingScreen) and run.live and run.stop_requested_at is None
        await pilot.press("ctrl+q", "s")  # stop & save
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit after saving")
        assert not run.live and run.view.state == "stopped"
    assert app.return_code == 0 and not app.training.hard_quit
    assert (root / NAME / "status.pkl").is_file() and not progress_of(root).finished


async def test_sigterm_waits_for_the_trainer_to_save_then_exits(tmp_path, tiny_mnist_root, gentle_trainer):
    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await start_training(pilot, epochs=50)
        app.training.stop_for_signal(signal.SIGTERM)  # what run_app's handler calls, in the main thread
        assert not run.live  # it returned only after the trainer had saved
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 128 + signal.SIGTERM
    assert read_experiment_info(root / NAME).state == "interrupted"
    assert (root / NAME / "status.pkl").is_file()


def root_with_an_older_run(tmp_path):
    """A root whose one experiment, interrupted, is where the list's cursor starts."""
    root = tmp_path / "e"
    make_experiment(root, "older-interrupted", epochs_done=1, epochs_planned=3)
    return root


async def test_a_second_training_is_refused_with_a_message(tmp_path, tiny_mnist_root, gentle_trainer):
    root = root_with_an_older_run(tmp_path)
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(120, 40)) as pilot:
        run = await start_training(pilot, epochs=50)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen))
        await pilot.press("n")
        app.screen.query_one("#name", Input).value = "second"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, NewExperimentScreen) and app.training.active_run is run
        assert any("One training at a time" in n.message for n in app._notifications)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.infos and len(app.screen.infos) == 2)
        app.screen.query_one("#experiments").move_cursor(
            row=app.screen.table.visible_infos().index(
                next(i for i in app.screen.table.visible_infos() if i.name == "older-interrupted")
            )
        )
        await pilot.press("r")
        assert app.training.active_run is run and isinstance(app.screen, ExperimentsScreen)
        await pilot.press("t")  # back to the training, then stop it
        assert isinstance(app.screen, TrainingScreen) and app.screen.view is run.view
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not run.live)
    assert not (root / "second").exists()


async def test_invalid_values_are_refused_inline_and_nothing_starts(tmp_path, tiny_mnist_root):
    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot)
        screen.query_one("#epochs", Input).focus()
        await pilot.press("ctrl+a", "ctrl+k", "0")  # keyboard only: clear the field and type 0
        error = screen.query_one("#form-error", Static)
        assert "epochs must be a whole number from 1 to 100000" in str(error.content)
        assert screen.query_one("#epochs", Input).has_class("-invalid")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, NewExperimentScreen) and app.training.active_run is None
        for field, value, message in (
            ("learning_rate", "fast", "learning rate must be a number"),
            ("percentage", "1.5", "fraction of examples must be in (0, 1]"),
            ("name", "../evil", "invalid experiment name"),
        ):
            screen.query_one("#epochs", Input).value = "2"
            widget = screen.query_one(f"#{field}", Input)
            valid, widget.value = widget.value, value
            await pilot.press("ctrl+s")
            assert message in str(error.content), field
            assert app.training.active_run is None and app.focused.id == field
            widget.value = valid
        assert not root.exists() or not any(root.iterdir())


async def test_a_failing_start_shows_an_error_modal_not_a_traceback(tmp_path, tiny_mnist_root):
    app = make_app(tmp_path / "e", tiny_mnist_root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(pilot, epochs=1)
        screen.query_one("#dataset").value = "folder"
        screen.query_one("#data_folder", Input).value = str(tmp_path / "missing")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen), what="the error modal")
        assert app.screen.title_text == "Training failed"
        assert "missing" in app.screen.message and "Traceback" not in app.screen.message
        await pilot.press("escape")
        assert isinstance(app.screen, TrainingScreen) and app.screen.view.state == "failed"
    assert not (tmp_path / "e").exists() or not any((tmp_path / "e").iterdir())


async def test_export_from_the_command_palette_shows_the_file_and_its_checks(tmp_path, tiny_mnist_root):
    root = tmp_path / "e"
    new_run(TrainConfig(epochs=1, batch_size=64), root=root, name="trained", datasets_root=tiny_mnist_root).run()
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.press("ctrl+p")
        await pilot.press(*"export onnx")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), timeout=60, what="the export modal")
        body = str(app.screen.query_one("#export-body", Static).content)
        assert str(root / "trained" / "model.onnx") in body
        assert "onnx.checker: passed" in body and "netron.app" in body
        assert (root / "trained" / "model.onnx").stat().st_size > 1000


async def test_export_without_a_checkpoint_explains_in_a_modal(tmp_path):
    root = tmp_path / "e"
    make_experiment(root, "untrained", epochs_done=0, epochs_planned=2)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen), timeout=60, what="the error modal")
        assert app.screen.title_text == "ONNX export failed"
        assert "no checkpoint yet" in app.screen.message


async def test_back_in_the_list_after_a_stop_r_resumes_the_run_just_stopped(tmp_path, tiny_mnist_root, gentle_trainer):
    """The training screen says "r resumes"; so does the list it goes back to: the cursor is on that
    run, not on the row the cursor was on before it was started."""
    root = root_with_an_older_run(tmp_path)
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(120, 40)) as pilot:
        run = await start_training(pilot, epochs=50)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not run.live, what="the stop")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and len(app.screen.infos) == 2)
        await wait_for(pilot, lambda: app.screen.table.selected_name() == NAME, what="the cursor on the run")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.training.active_run is not None and app.training.active_run is not run)
        assert app.training.active_run.view.name == NAME
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.training.active_run.live)
