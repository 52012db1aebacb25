"""Folding the trainer's events into what the training screen shows."""

from __future__ import annotations

import pytest
from tui_helpers import history, live_view

from savi_tui.core import events as ev
from savi_tui.tui.run_state import RunView, format_duration


def test_a_resumed_run_starts_with_its_earlier_history_and_position():
    view = RunView("x")
    earlier = tuple(history(3, best=2))
    view.apply(ev.RunStarted("x", "ModelConvNet", "cpu", 10, 4, 30, 118, 60000, 10000, earlier, 2))
    assert view.history == list(earlier) and view.best_epoch == 2
    assert (view.epoch, view.batch, view.batches) == (4, 30, 118)
    assert view.log[-1] == "Resumed at epoch 4/10, batch 30/118 on cpu (60,000 training images)"


def test_the_best_epoch_moves_with_the_events():
    view = live_view()
    assert view.best_epoch == 4
    better = ev.EpochRecord(6, 0.1, 0.05, 0.99, 0.99, 10.0)
    view.apply(ev.EpochFinished(better, True, 6))
    assert view.best_epoch == 6 and view.history[-1] == better
    assert view.batch_losses == [] and (view.epoch, view.batch) == (7, 0)


def test_progress_and_eta_come_from_images_per_second():
    view = live_view()  # epoch 6 of 10, batch 68 of 118, 60,000 images at 21,500 img/s
    assert view.epoch_fraction() == pytest.approx(68 / 118)
    assert view.run_fraction() == pytest.approx((5 + 68 / 118) / 10)
    assert view.epoch_eta() == pytest.approx(60000 * (50 / 118) / 21500)
    assert view.run_eta() == pytest.approx(view.epoch_eta() + 4 * 60000 / 21500)
    assert format_duration(3725) == "1:02:05" and format_duration(65) == "01:05" and format_duration(None) == "--:--"


def test_stopped_says_exactly_where_it_saved_even_between_progress_events():
    view = live_view(stopped=True)  # the last progress event said batch 68; the stop came at 68 too
    view.apply(ev.Stopped(ev.Position(6, 71, 118), "savi-tui train --resume x"))
    assert view.state == "stopped" and (view.epoch, view.batch) == (6, 71)
    assert view.saved_where() == "in epoch 6 at batch 71 of 118"
    assert view.status_line().startswith("Saved in epoch 6 at batch 71 of 118.")
    assert "Press r to resume" in view.status_line() and "savi-tui train --resume x" in view.status_line()
    assert view.run_eta() is None


def test_a_stop_asked_of_another_process_names_it_until_it_saved():
    view = live_view()
    view.trained_by, view.state = "pid 4242 host lab", "stopping"
    assert view.status_line() == "Asked pid 4242 host lab to stop after its batch and save…"
    view.apply(ev.Stopped(ev.Position(2, 5, 118), "savi-tui train --resume x"))
    assert view.status_line().startswith("Saved in epoch 2 at batch 5 of 118.")


def test_a_failure_is_kept_with_its_message():
    view = live_view()
    view.apply(ev.Failed("CheckpointError: disk full"))
    assert view.state == "failed" and view.status_line() == "Failed: CheckpointError: disk full"
