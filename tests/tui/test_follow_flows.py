"""Runs that outlive the app: following another process's run, stopping it, handing this app's run over."""

from __future__ import annotations

import os
import signal

import pytest
from textual.widgets import Static
from tui_helpers import NAME, make_app, start_training, wait_for

from savi_tui.core import events as ev
from savi_tui.core.experiments import Experiment, read_experiment_info
from savi_tui.core.follow import RunFollower
from savi_tui.tui.run_state import RunView
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.training import TrainingScreen
from tests.conftest import start_cli_training


def status_of(screen) -> str:
    return str(screen.query_one("#run-status", Static).render())


def kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def cli_training(tmp_path, tiny_mnist_root):
    process, experiment = start_cli_training(tmp_path / "e", tiny_mnist_root, name="elsewhere")
    yield process, experiment
    kill_quietly(process.pid)
    process.wait(30)


async def open_running(pilot, name: str) -> TrainingScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.infos, what="the list")
    table = app.screen.query_one("#experiments")
    state = str(table.get_row(name)[1])
    assert state.startswith("running pid "), state
    await pilot.press("enter")
    assert isinstance(app.screen, TrainingScreen) and app.screen.follower is not None
    return app.screen


async def test_a_run_of_another_process_moves_on_screen_and_ctrl_c_stops_and_saves_it(cli_training, tiny_mnist_root):
    process, experiment = cli_training
    app = make_app(experiment.path.parent, tiny_mnist_root)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_running(pilot, "elsewhere")
        view = screen.view
        await wait_for(pilot, lambda: len(view.history) >= 2 and view.batch_losses, what="epochs and batches")
        status = status_of(screen)
        assert f"Trained by pid {process.pid} host" in status and "Ctrl+C: ask it to stop" in status
        done_before = len(view.history)
        await wait_for(pilot, lambda: len(view.history) > done_before, what="the next epoch, live")
        await pilot.press("ctrl+c")
        # "stopping" lasts until the trainer's next batch, which a tiny run may reach before this line
        assert view.state in ("stopping", "stopped")
        assert any(line.startswith(f"Asked pid {process.pid}") for line in view.log)
        await wait_for(pilot, lambda: view.state == "stopped", what="the trainer's save")
        assert "Press r to resume" in status_of(screen)
        assert process.wait(30) == 128 + signal.SIGUSR1
    assert read_experiment_info(experiment.path).state == "interrupted"


async def test_a_followed_trainer_killed_with_9_is_said_to_be_gone(cli_training, tiny_mnist_root):
    process, experiment = cli_training
    app = make_app(experiment.path.parent, tiny_mnist_root)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_running(pilot, "elsewhere")
        await wait_for(pilot, lambda: screen.view.history, what="an epoch")
        process.send_signal(signal.SIGKILL)
        await wait_for(pilot, lambda: screen.view.state == "interrupted", what="the end to be noticed")
        assert any("stopped reporting and let go of the run (killed?)" in line for line in screen.view.log)
        assert "press r to resume" in status_of(screen)


async def test_a_run_handed_over_goes_on_in_the_background_and_the_screen_follows_it(tmp_path, tiny_mnist_root):
    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    background = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            run = await start_training(pilot, epochs=200, batch_size=8)
            screen = app.screen
            await pilot.press("b")
            await wait_for(pilot, lambda: run.handed_over, what="the save and the hand-over")
            assert run.outcome == "stopped" and screen.follower is not None
            await wait_for(pilot, lambda: screen.view.trained_by and screen.view.state == "running", timeout=60)
            background = Experiment(root / NAME).lock().holder_info().pid
            assert background != os.getpid() and f"pid {background}" in status_of(screen)
            epochs = len(screen.view.history)
            await wait_for(pilot, lambda: len(screen.view.history) > epochs, what="epochs from the background run")
            await pilot.press("ctrl+c")  # now a stop request to the background process
            await wait_for(pilot, lambda: screen.view.state == "stopped", what="the background run's save")
        starts = [line for line in screen.view.log if line.startswith("Resumed at")]
        assert starts, screen.view.log  # the background run continued where this app's stopped
    finally:
        if background is not None:
            kill_quietly(background)
    info = read_experiment_info(root / NAME)
    assert info.state == "interrupted" and info.epochs_done >= epochs + 1


async def test_savi_tui_stop_from_outside_stops_this_apps_training_and_the_app_stays(tmp_path, tiny_mnist_root):
    from savi_tui.core.run_control import request_stop

    root = tmp_path / "e"
    app = make_app(root, tiny_mnist_root)
    async with app.run_test(size=(100, 30)) as pilot:
        run = await start_training(pilot, epochs=200, batch_size=8)
        # run_app's handler, installed here as run_test does not install it
        stop = lambda *a: app.training.loop.call_soon_threadsafe(app.training.stop_from_outside)  # noqa: E731
        previous = signal.signal(signal.SIGUSR1, stop)
        try:
            request_stop(Experiment(root / NAME))  # what `savi-tui stop` or another app does
            await wait_for(pilot, lambda: run.view.state == "stopped", what="the save")
        finally:
            signal.signal(signal.SIGUSR1, previous)
        assert app.return_code is None  # the app is still open
        assert any("Another process asked" in n.message for n in app._notifications)


def test_the_log_of_a_followed_run_is_events_from_its_start(tmp_path, tiny_mnist_root):
    """What a follower folds is the trainer's own events, in order (the app's own run sees the same)."""
    from savi_tui.core.run_log import RunLogReader
    from tests.reliability.reliability_support import train_tiny

    experiment = train_tiny(tmp_path / "e", tiny_mnist_root, "done", epochs=2)
    events = RunLogReader(experiment.events_path).read().events
    kinds = [type(e).__name__ for e in events if not isinstance(e, ev.BatchProgress)]
    assert kinds[0] == "RunStarted" and kinds[-1] == "Finished" and kinds.count("EpochFinished") == 2


@pytest.fixture
def held_elsewhere(tmp_path):
    """An experiment whose lock a trainer on another host holds (a shared home), with its events so far."""
    from tui_helpers import LIVE_NAME, live_events, make_experiment, write_event_log

    from savi_tui.core.lock import LockHolder

    path = make_experiment(tmp_path / "e", LIVE_NAME, model="ModelConvNet", epochs_done=5, epochs_planned=10)
    write_event_log(path / "events.jsonl", live_events())
    lock = Experiment(path).lock()
    with lock:
        lock.path.write_text(LockHolder(4242, "gpu-node-7", "x:1", "2026-03-14T12:00:00+00:00").to_json())
        yield path


async def test_a_damaged_event_log_is_read_around_and_the_screen_says_what_it_could_not_read(held_elsewhere):
    log = held_elsewhere / "events.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:10]) + "\x00\x01 not an event\n" + "".join(lines[10:]) + lines[3][:25])
    app = make_app(held_elsewhere.parent)
    async with app.run_test(size=(100, 30)) as pilot:
        info = read_experiment_info(held_elsewhere)
        screen = TrainingScreen(RunView.from_info(info), RunFollower(Experiment(held_elsewhere)))
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.view.batch == 68, what="the events around the damage")
        assert len(screen.view.history) == 5 and "1 line(s) of events.jsonl could not be read" in screen.view.log
        log.write_text(lines[0])  # truncated (say, by hand): the screen starts over from what is there
        await wait_for(pilot, lambda: screen.view.batch == 0 and screen.view.epoch == 1, what="the restart")
        assert "another machine" in status_of(screen)
