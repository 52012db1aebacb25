"""One experiment in three panes under the list: its settings, a small loss chart, its best metrics."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from savi_tui.core.experiments import ExperimentState
from savi_tui.tui.state_styles import STATE_STYLES
from savi_tui.tui.widgets.loss_chart import LossChart


def config_text(config: dict) -> str:
    """The settings of ``config.json``, a few to a line."""
    if not config:
        return "(no readable config)"
    lines = [
        config.get("model", "?"),
        f"{config.get('dataset')} · {config.get('epochs')} epochs",
        f"folder {config.get('data_folder')}" if config.get("data_folder") else "",
        f"batch {config.get('batch_size')} · lr {config.get('learning_rate')}",
        f"{config.get('optimizer')} · seed {config.get('seed')}",
        f"fraction {config.get('percentage')}",
        f"recipe {config.get('recipe')}" if config.get("recipe", "default") != "default" else "",
    ]
    return "\n".join(line for line in lines if line)


def running_text(info, now: float) -> str:
    """Who trains a running experiment, and when it last said something."""
    who = info.holder.describe() if info.holder else "another process"
    if info.last_report is None:
        return f"trained by {who}"
    return f"trained by {who}, last report {max(0, now - info.last_report):.0f} s ago"


def metrics_text(info) -> Text:
    """The state, the best epoch's metrics, and what to do next."""
    text = Text()
    text.append(f"{info.state}\n", style=STATE_STYLES.get(info.state, ""))
    if info.best_epoch:
        best = info.history[info.best_epoch - 1]
        text.append(f"best epoch {info.best_epoch}\n")
        text.append(f"test loss  {best.test_loss:.4f}\n")
        text.append(f"accuracy   {best.test_accuracy:.2%}\n")
        text.append(f"global F1  {best.f1:.4f}\n")
    else:
        text.append("no finished epoch yet\n")
    if info.state == ExperimentState.INTERRUPTED:
        text.append(f"r resumes {info.position.describe()}\n", style="yellow")
    if info.state == ExperimentState.RUNNING:
        text.append(running_text(info, time.time()) + "\n", style=STATE_STYLES.get(info.state, ""))
    if info.problem:
        text.append(info.problem, style="red")
    return text


class ExperimentDetail(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static(id="detail-config", markup=False)
        yield LossChart("Loss", id="detail-chart")
        yield Static(id="detail-metrics")

    def show(self, info, empty_reason: str = "") -> None:
        """Show ``info`` (an ``ExperimentInfo``), or nothing but ``empty_reason`` when it is None."""
        config_pane = self.query_one("#detail-config", Static)
        metrics_pane = self.query_one("#detail-metrics", Static)
        chart = self.query_one("#detail-chart", LossChart)
        if info is None:
            config_pane.update("")
            metrics_pane.update(empty_reason)
            chart.show([], None)
            return
        config_pane.update(config_text(info.config))
        chart.show(info.history, info.best_epoch, epochs_planned=info.epochs_planned)
        metrics_pane.update(metrics_text(info))
