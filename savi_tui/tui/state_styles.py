"""The colour of each state, the same in the experiments list and on the training screen."""

from __future__ import annotations

# an experiment's states (core.experiments.ExperimentState) and a run's own (run_state.STATE_LABELS)
STATE_STYLES = {
    "running": "cyan",
    "stopping": "bold yellow",
    "stopped": "bold green",
    "finished": "bold green",
    "complete": "green",
    "failed": "bold red",
    "corrupt": "bold red",
    "interrupted": "yellow",
    "queued": "bright_blue",
}
