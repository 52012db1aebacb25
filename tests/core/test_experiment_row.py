"""One experiment as a row of text, the same for `savi-tui list` and the app's table."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

from savi_tui.core.experiment_row import experiment_row
from savi_tui.core.experiments import ExperimentState


def info(**changes):
    values = dict(name="mnist-convnet", state=ExperimentState.INTERRUPTED, model="ModelConvNet", dataset="mnist")
    values |= dict(epochs_done=3, epochs_planned=10, batch_idx=40, best_epoch=3, best_test_loss=0.04321, f1=0.98765)
    values |= dict(modified=datetime(2026, 3, 14, 12, 0).timestamp())
    return SimpleNamespace(**(values | changes))


def test_a_row_has_every_column_as_text():
    row = experiment_row(info(), datetime(2026, 3, 14, 18, 0))
    assert row == {
        "name": "mnist-convnet",
        "state": "interrupted",
        "epochs": "3/10",
        "best": "3",
        "loss": "0.0432",
        "f1": "0.9877",
        "modified": "12:00",
        "model": "ConvNet",
        "dataset": "mnist",
    }


def test_a_printed_row_dates_its_time_and_counts_the_batches_of_a_stopped_epoch():
    row = experiment_row(info(), partial_epoch=True)
    assert row["epochs"] == "3/10 +40b" and row["modified"] == "03-14 12:00"


def test_an_experiment_without_a_finished_epoch_shows_dashes():
    row = experiment_row(info(best_epoch=None, best_test_loss=None, f1=None, batch_idx=0), partial_epoch=True)
    assert (row["epochs"], row["best"], row["loss"], row["f1"]) == ("3/10", "-", "-", "-")


def test_a_state_is_its_string_in_comparisons_text_and_json():
    state = ExperimentState.RUNNING
    assert state == "running" and str(state) == f"{state}" == "running"
    assert json.dumps({"state": state}) == '{"state": "running"}'
    assert ExperimentState("corrupt") is ExperimentState.CORRUPT
