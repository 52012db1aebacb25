"""What the CLI prints while it trains."""

from __future__ import annotations

import io

from rich.console import Console

from savi_tui.cli_progress import TrainingProgress
from savi_tui.core import events as ev


def printed(*events) -> str:
    out = io.StringIO()
    progress = TrainingProgress(Console(file=out, width=200))
    for event in events:
        progress.handle(event)
    return out.getvalue()


def test_a_stop_in_the_first_epoch_says_where_as_a_person_would():
    text = printed(ev.Stopped(ev.Position.after(0, 36, 94), "savi-tui train --resume run"))
    assert "Saved in epoch 1 at batch 36 of 94." in text and "epoch 0" not in text
    assert "Resume with: savi-tui train --resume run" in text


def test_a_stop_at_an_epoch_boundary_names_the_epoch_that_is_done():
    assert "Saved at the end of epoch 3." in printed(ev.Stopped(ev.Position.after(3, 0, 94), "x"))
