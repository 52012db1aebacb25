"""One experiment as a row of text: the columns of ``savi-tui list`` and of the app's table (no torch)."""

from __future__ import annotations

import time
from datetime import datetime

from savi_tui.core.models import describe_variant


def format_modified(timestamp: float, now: datetime) -> str:
    """Compact: "16:14" today, "11-27 16:14" this year, "2025-11-27" before."""
    when = datetime.fromtimestamp(timestamp)
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%m-%d %H:%M")
    return when.strftime("%Y-%m-%d")


def state_text(info, now: float) -> str:
    """The state; for a running experiment, who trains it and when it last reported: "running pid 42, 3s"."""
    text = str(info.state)
    if info.state == "running" and info.holder is not None:
        text += f" pid {info.holder.pid}"
        if info.last_report is not None:
            text += f", {max(0, now - info.last_report):.0f}s"
    return text


def experiment_row(info, now: datetime | None = None, *, partial_epoch: bool = False) -> dict[str, str]:
    """The text of each column of an ``ExperimentInfo``: name, state, epochs, best, loss, f1, modified,
    model, dataset.

    With ``now``, "modified" is relative to it (the app's table is read at once); without, it is
    "MM-DD HH:MM", as a printed listing may be read another day. ``partial_epoch`` adds the batches
    done in the next epoch: "3/10 +40b".
    """
    epochs = f"{info.epochs_done}/{info.epochs_planned}"
    if partial_epoch and info.batch_idx:
        epochs += f" +{info.batch_idx}b"
    if now is None:
        modified = time.strftime("%m-%d %H:%M", time.localtime(info.modified))
    else:
        modified = format_modified(info.modified, now)
    return {
        "name": info.name,
        "state": state_text(info, now.timestamp() if now else time.time()),
        "epochs": epochs,
        "best": str(info.best_epoch) if info.best_epoch else "-",
        "loss": f"{info.best_test_loss:.4f}" if info.best_test_loss is not None else "-",
        "f1": f"{info.f1:.4f}" if info.f1 is not None else "-",
        "modified": modified,
        "model": describe_variant(info.model, (getattr(info, "config", None) or {}).get("model_options")),
        "dataset": info.dataset,
    }


def group_row(group, now: datetime | None = None) -> dict[str, str]:
    """The columns of a ``GroupInfo`` (and "acc", for its detail): its members' state, and the mean ±
    standard deviation of the best test loss, global F1 and accuracy of those with a finished epoch.
    The list has no accuracy column: with one label per image the global (micro) F1 is the accuracy."""

    def spread_text(found, percent: bool = False) -> str:
        if found is None:
            return "-"
        return found.describe(4, percent=percent).replace(" ± ", "±").replace(" %", "%")

    if now is None:
        modified = time.strftime("%m-%d %H:%M", time.localtime(group.modified))
    else:
        modified = format_modified(group.modified, now)
    return {
        "name": f"{group.name} (n={group.n})",
        "state": group.state_text(),
        "epochs": f"{group.epochs_done}/{group.epochs_planned}",
        "best": "-",
        "loss": spread_text(group.loss_spread),
        "f1": spread_text(group.f1_spread),
        "acc": spread_text(group.accuracy, percent=True),
        "modified": modified,
        "model": variants.pop() if len(variants := {_variant(m) for m in group.members}) == 1 else "mixed",
        "dataset": group.dataset,
    }


def _variant(info) -> str:
    return describe_variant(info.model, (info.config or {}).get("model_options"))


def group_text(group) -> str:
    """A group in a few short lines (the detail pane is 20 columns): n, its state, and each figure as
    mean±standard deviation."""
    row = group_row(group)
    return "\n".join(
        [
            f"group of {group.n}",
            group.state_text(),
            f"acc  {row['acc']}",
            f"F1   {row['f1']}",
            f"loss {row['loss']}",
            "+ shows the runs",
        ]
    )
