"""progress.json: one record, written by the trainer, read by the list."""

from __future__ import annotations

import json

import pytest

from savi_tui.core.errors import ConfigError
from savi_tui.core.events import EpochRecord
from savi_tui.core.progress import Progress, read_progress, write_progress

HISTORY = (EpochRecord(1, 0.5, 0.4, 0.9, 0.9, 10.0), EpochRecord(2, 0.3, 0.35, 0.92, 0.92, 10.0))


def test_a_record_reads_back_as_it_was_written(tmp_path):
    progress = Progress(10, HISTORY, batch_idx=7, batches_per_epoch=118, best_epoch=2, best_test_loss=0.35)
    write_progress(tmp_path / "progress.json", progress)
    assert read_progress(tmp_path / "progress.json") == progress
    data = json.loads((tmp_path / "progress.json").read_text())
    assert data["epochs_done"] == 2 and data["history"][1]["epoch"] == 2


def test_the_record_says_where_the_run_stands_and_its_best_epoch():
    progress = Progress(10, HISTORY, batch_idx=7, batches_per_epoch=118, best_epoch=2, best_test_loss=0.35)
    assert progress.position.describe() == "in epoch 3 at batch 7 of 118"
    assert progress.best == HISTORY[1]
    assert progress.with_error("disk full").error == "disk full"


def test_no_file_is_no_record_yet(tmp_path):
    assert read_progress(tmp_path / "progress.json") is None


def test_a_file_written_before_batches_were_recorded_still_reads(tmp_path):
    (tmp_path / "progress.json").write_text(json.dumps({"epochs_planned": 5, "history": [], "batch_idx": 3}))
    progress = read_progress(tmp_path / "progress.json")
    assert progress.batches_per_epoch == 0 and progress.position.describe() == "in epoch 1 at batch 3"


@pytest.mark.parametrize(
    "text, says",
    [
        ("{", "not valid JSON"),
        ("[1]", "not a JSON object"),
        ('{"history": []}', "KeyError: 'epochs_planned'"),
        ('{"epochs_planned": 5, "batch_idx": "x"}', "ValueError"),
        ('{"epochs_planned": 5, "best_epoch": 2, "history": []}', "best epoch 2 is not one of the 0 done"),
    ],
)
def test_a_damaged_record_is_refused_naming_the_file(tmp_path, text, says):
    path = tmp_path / "progress.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_progress(path)
    assert str(caught.value).startswith(f"{path}: ") and says in str(caught.value)
