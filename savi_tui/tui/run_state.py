"""What the training screen shows, as plain data folded from core events.

The app keeps one ``RunView`` per training (or per experiment opened from the
list); the screen draws it. Keeping it out of the widgets lets a user leave the
training screen and come back to a complete picture, and lets tests check the
folding without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from savi_tui.core import events as ev

STATE_LABELS = {
    "starting": "starting (loading data and torch)…",
    "running": "training",
    "stopping": "stopping after this batch — saving…",
    "stopped": "stopped and saved",
    "finished": "finished",
    "failed": "failed",
    "complete": "complete",
    "interrupted": "interrupted",
    "corrupt": "corrupt",
}


@dataclass
class RunView:
    name: str
    model: str = "?"
    dataset: str = "?"
    state: str = "starting"
    epochs: int = 0
    device: str = ""
    history: list[ev.EpochRecord] = field(default_factory=list)
    best_epoch: int | None = None
    epoch: int = 0  # 1-based epoch in progress (0 before the first batch)
    batch: int = 0
    batches: int = 0
    train_size: int = 0
    images_per_second: float = 0.0
    batch_losses: list[tuple[float, float]] = field(default_factory=list)  # (x in epochs, loss)
    log: list[str] = field(default_factory=list)
    resume_command: str | None = None
    error: str | None = None
    trained_by: str | None = None  # "pid N host H": a run of another process, followed here
    can_stop: bool = False  # that process runs on this host: a stop request can reach it
    silent_for: float | None = None  # seconds that process has said nothing while it holds the run
    saved_at: ev.Position | None = None  # where the last stop saved

    @classmethod
    def from_info(cls, info) -> RunView:
        """A view of an experiment on disk (``core.experiments.ExperimentInfo``)."""
        view = cls(
            name=info.name,
            model=info.model,
            dataset=info.dataset,
            state=info.state,
            epochs=info.epochs_planned,
            history=list(info.history),
            best_epoch=info.best_epoch,
            error=info.problem,
        )
        view.epoch = info.epochs_done
        if info.state == "interrupted":
            view.log.append(f"Interrupted {info.position.describe()} — press r to resume.")
        return view

    @property
    def live(self) -> bool:
        return self.state in ("starting", "running", "stopping")

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def in_epoch(self) -> bool:
        """True while the batch counters describe an epoch in progress (or one stopped inside)."""
        return self.state in ("running", "stopping", "stopped") and self.batches > 0 and self.batch < self.batches

    def epoch_fraction(self) -> float:
        if self.in_epoch:
            return self.batch / self.batches
        return 1.0 if self.history else 0.0

    def run_fraction(self) -> float:
        if not self.epochs:
            return 0.0
        partial = self.batch / self.batches if self.in_epoch else 0.0
        return min(1.0, (self.epochs_done + partial) / self.epochs)

    def epoch_eta(self) -> float | None:
        """Seconds left in this epoch's training, from the measured images per second."""
        if not (self.live and self.images_per_second > 0 and self.batches):
            return None
        return self.train_size * (1 - self.batch / self.batches) / self.images_per_second

    def run_eta(self) -> float | None:
        epoch_eta = self.epoch_eta()
        if epoch_eta is None:
            return None
        later_epochs = max(0, self.epochs - max(self.epoch, self.epochs_done + 1))
        return epoch_eta + later_epochs * self.train_size / self.images_per_second

    def apply(self, event) -> None:
        """Fold one core event into the view."""
        if isinstance(event, ev.RunStarted):
            self.name, self.model, self.device, self.epochs = event.experiment, event.model, event.device, event.epochs
            self.history, self.best_epoch = list(event.history), event.best_epoch
            self.epoch, self.batch, self.batches = event.start_epoch, event.start_batch, event.batches_per_epoch
            self.train_size, self.batch_losses, self.error = event.train_size, [], None
            if self.state != "stopping":
                self.state = "running"
            where = f"epoch {event.start_epoch}/{event.epochs}"
            if event.start_batch:
                where += f", batch {event.start_batch}/{event.batches_per_epoch}"
            verb = "Resumed" if event.history or event.start_batch else "Started"
            self.log.append(f"{verb} at {where} on {event.device} ({event.train_size:,} training images)")
        elif isinstance(event, ev.BatchProgress):
            if event.epoch != self.epoch:
                self.batch_losses = []
            self.epoch, self.batch, self.batches = event.epoch, event.batch, event.batches
            self.images_per_second = event.images_per_second
            self.batch_losses.append((event.epoch - 1 + event.batch / event.batches, event.loss))
        elif isinstance(event, ev.EpochFinished):
            record = event.record
            self.history = [r for r in self.history if r.epoch != record.epoch] + [record]
            self.best_epoch = event.best_epoch
            self.batch_losses = []
            if record.epoch < self.epochs:  # the next epoch starts at its first batch
                self.epoch, self.batch = record.epoch + 1, 0
            self.log.append(
                f"Epoch {record.epoch}: train loss {record.train_loss:.4f}, test loss {record.test_loss:.4f}, "
                f"accuracy {record.test_accuracy:.2%}" + (" — new best" if event.is_best else "")
            )
        elif isinstance(event, ev.CheckpointSaved):
            self.log.append(f"Checkpoint saved {event.position.describe()}")
        elif isinstance(event, ev.BestUpdated):
            self.log.append(f"New best: epoch {event.epoch}, test loss {event.test_loss:.4f} → best.pkl")
        elif isinstance(event, ev.Stopped):
            self.state, self.resume_command = "stopped", event.resume_command
            self.saved_at = event.position
            self.epoch, self.batch = event.position.epoch, event.position.batch  # progress is throttled; this is exact
            self.log.append(f"Stopped and saved {self.saved_where()}. Resume: {event.resume_command}")
        elif isinstance(event, ev.Finished):
            self.state = "finished"
            if event.best_epoch is not None:
                self.log.append(
                    f"Finished {event.epochs} epochs; best epoch {event.best_epoch} "
                    f"(test loss {event.best_test_loss:.4f})"
                )
            else:
                self.log.append(f"Finished {event.epochs} epochs")
        elif isinstance(event, ev.Failed):
            self.state, self.error = "failed", event.error
            self.log.append(f"Failed: {event.error}")
        elif isinstance(event, ev.Message):
            self.log.append(event.text)

    def saved_where(self) -> str:
        """ "in epoch 2 at batch 36 of 94", "at the end of epoch 3"."""
        return "?" if self.saved_at is None else self.saved_at.describe()

    def status_line(self) -> str:
        """One line under the chart that says where the run stands and what to do next."""
        if self.state == "stopping" and self.trained_by:
            return f"Asked {self.trained_by} to stop after its batch and save…"
        if self.state == "stopping":
            return "Stopping after this batch — saving… (Ctrl+C again quits at once)"
        if self.state == "stopped":
            return f"Saved {self.saved_where()}. Press r to resume, or run: {self.resume_command}"
        if self.state == "finished":
            return "Finished. e: export the best model to ONNX · Esc: back to the list"
        if self.state == "failed":
            return f"Failed: {self.error}"
        if self.state == "interrupted":
            return "Interrupted: press r to resume where it stopped."
        if self.state == "corrupt":
            return f"Corrupt: {self.error}"
        if self.state == "complete":
            return "Complete. e exports the best model to ONNX."
        if self.state == "starting":
            return "Starting: loading the dataset and torch…"
        if self.trained_by and self.silent_for is not None:
            return f"No word from {self.trained_by} for {self.silent_for:.0f} s: busy, frozen or gone?"
        if self.trained_by and not self.can_stop:  # Ctrl+C here quits this app; it cannot reach that run
            return f"Trained by {self.trained_by}, another machine: it can only be watched here."
        if self.trained_by:
            return f"Trained by {self.trained_by}. Ctrl+C: ask it to stop and save · Esc: back to the list"
        return "Training. Ctrl+C: stop and save · b: continue in background · Esc: back"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
