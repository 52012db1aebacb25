"""Events: one JSON form each (another process reads them), and positions said as people say them."""

from __future__ import annotations

import json

import pytest

from savi_tui.core import events as ev

RECORD = ev.EpochRecord(3, 0.25, 0.2, 0.94, 0.94, 12.5)
ONE_OF_EACH = [
    ev.RunStarted("run", "ModelConvNet", "cpu", 10, 4, 30, 118, 60000, 10000, (RECORD,), 3),
    ev.BatchProgress(4, 31, 118, 0.19, 8123.5),
    ev.EpochFinished(RECORD, True, 3),
    ev.CheckpointSaved("run/status.pkl", ev.Position(4, 36, 118)),
    ev.BestUpdated("run/best.pkl", 3, 0.2),
    ev.Stopped(ev.Position(4, 36, 118), "savi-tui train --resume run"),
    ev.Finished(10, 8, 0.03, {"accuracy": 0.99, "global": {"f1_score": 0.99}}),
    ev.Failed("disk full"),
    ev.Message("resumed from the previous checkpoint"),
]


def test_every_kind_of_event_is_in_the_list_above():
    assert {type(e) for e in ONE_OF_EACH} == set(ev.EVENT_TYPES.values())


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: type(e).__name__)
def test_each_event_survives_its_json_form(event):
    text = json.dumps(ev.event_to_dict(event))  # JSON-safe: dumps would raise otherwise
    assert ev.event_from_dict(json.loads(text)) == event


@pytest.mark.parametrize(
    "data, says",
    [
        ({"event": "Exploded"}, "not a training event ('Exploded')"),
        ([1, 2], "not a training event ('list')"),
        ({"event": "Failed", "error": "x", "extra": 1}, "Failed: unknown field(s) extra"),
        ({"event": "Failed"}, "Failed: TypeError"),
        ({"event": "Stopped", "position": {"epoch": 1}, "resume_command": ""}, "Stopped: KeyError: 'batch'"),
        ({"event": "EpochFinished", "record": {"epoch": "x"}, "is_best": True, "best_epoch": 1}, "EpochFinished:"),
    ],
)
def test_what_is_not_an_event_is_refused_with_what_is_wrong(data, says):
    with pytest.raises(ev.EventFormatError) as caught:
        ev.event_from_dict(data)
    assert str(caught.value).startswith(says)


@pytest.mark.parametrize(
    "epochs_done, batch, batches, said",
    [
        (0, 36, 94, "in epoch 1 at batch 36 of 94"),
        (0, 0, 94, "at the start of epoch 1"),
        (3, 0, 94, "at the end of epoch 3"),
        (3, 12, 94, "in epoch 4 at batch 12 of 94"),
        (3, 0, 0, "at the start of epoch 4"),  # batches unknown: an older progress.json
        (3, 12, 0, "in epoch 4 at batch 12"),
    ],
)
def test_a_position_is_said_with_one_based_epochs(epochs_done, batch, batches, said):
    position = ev.Position.after(epochs_done, batch, batches)
    assert position.describe() == said
    assert position.epochs_done == epochs_done
