"""The checkpoint payload: one definition, read back field for field."""

from __future__ import annotations

import pytest

from savi_tui.core.errors import CheckpointError
from savi_tui.core.events import EpochRecord
from savi_tui.core.train_state import BEST_SELECTED_ON, PartialEpoch, TrainState


def a_state(**changes) -> TrainState:
    values = dict(
        model_name="ModelFullyConnected",
        config={"model": "ModelFullyConnected"},
        epoch_idx=1,
        batch_idx=4,
        history=[EpochRecord(1, 0.5, 0.4, 0.9, 0.9, 1.0), EpochRecord(2, 0.3, 0.35, 0.92, 0.92, 1.0)],
        best_epoch_idx=1,
        best_test_loss=0.35,
        partial_epoch=PartialEpoch(2.5, 128, 0.7),
        optimizer_state_dict={"state": {}, "param_groups": []},
        rng_state={"torch": b"not checked here"},
    )
    values.update(changes)
    return TrainState(**values)


def test_a_state_reads_back_from_its_payload():
    state = a_state()
    payload = state.to_payload()
    assert payload["train_losses"] == [0.5, 0.3] and payload["test_losses"] == [0.4, 0.35]
    assert TrainState.from_payload(payload, "status.pkl") == state


def test_positions_and_the_best_epoch_are_one_based():
    state = a_state()
    assert state.epochs_done == 2 and state.best_epoch == 2
    assert state.position(94).describe() == "in epoch 3 at batch 4 of 94"


def test_best_says_how_it_was_selected():
    payload = a_state(kind="best").to_payload()
    assert payload["selected_on"] == BEST_SELECTED_ON
    assert TrainState.from_payload(payload, "best.pkl").kind == "best"


def test_an_unknown_kind_is_refused():
    with pytest.raises(CheckpointError, match=r"^x.pkl: kind 'other' is not one of status, best$"):
        TrainState.from_payload(a_state(kind="other").to_payload(), "x.pkl")
