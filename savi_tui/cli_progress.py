"""The CLI's view of a training: a rich progress bar and one line per epoch.

The terminal may go away under it (the SSH connection drops): its first failed write makes it
quiet for good, so that the training, called back from here, never fails for want of a screen.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from savi_tui.core import events as ev


class TrainingProgress:
    """Consumes trainer events (called in the thread that runs the trainer)."""

    def __init__(self, console: Console | None = None, *, refresh_per_second: float = 10) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[rate]} img/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=refresh_per_second,
            transient=True,  # at the end the epoch lines and the outcome are the last words, not the bars
        )
        self.run_task = None
        self.epoch_task = None
        self.epochs = 0

    def __enter__(self) -> TrainingProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._quietly(self.progress.stop)

    def note_stopping(self, signal_name: str) -> None:
        self._quietly(
            self.console.print,
            f"[yellow]{signal_name}: stopping after this batch and saving… (again to exit at once)[/yellow]",
        )

    def handle(self, event: ev.Event) -> None:
        self._quietly(self._show, event)

    def _quietly(self, write, *args) -> None:
        try:
            write(*args)
        except OSError:  # no terminal any more: say nothing from now on
            self.console.quiet = True
            try:
                self.progress.stop()
            except OSError:
                pass

    def _show(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self._started(event)
        elif isinstance(event, ev.BatchProgress):
            done = (event.epoch - 1) * event.batches + event.batch
            fields = {"loss": f"{event.loss:.4f}", "rate": f"{event.images_per_second:,.0f}"}
            self.progress.update(self.epoch_task, completed=event.batch, description=f"epoch {event.epoch}", **fields)
            self.progress.update(self.run_task, completed=done, **fields)
        elif isinstance(event, ev.EpochFinished):
            r = event.record
            mark = "  [green]best[/green]" if event.is_best else ""
            self.console.print(
                f"epoch {r.epoch}/{self.epochs}  train {r.train_loss:.4f}  test {r.test_loss:.4f}  "
                f"accuracy {r.test_accuracy:.2%}  F1 {r.f1:.4f}  {r.seconds:.1f}s{mark}"
            )
        elif isinstance(event, ev.Message):
            self.console.print(f"[yellow]{event.text}[/yellow]")
        elif isinstance(event, ev.Stopped):
            self.console.print(f"[bold]Saved[/bold] {event.position.describe()}.\nResume with: {event.resume_command}")
        elif isinstance(event, ev.Finished):
            self._finished(event)
        elif isinstance(event, ev.Failed):
            self.console.print(f"[red]failed: {event.error}[/red]")

    def _started(self, event: ev.RunStarted) -> None:
        self.epochs = event.epochs
        where = (
            ""
            if event.start_epoch == 1 and event.start_batch == 0
            else (f", resuming at epoch {event.start_epoch} batch {event.start_batch}")
        )
        self.console.print(
            f"[bold]{event.experiment}[/bold]: {event.model} on {event.device}, {event.train_size:,} train / "
            f"{event.test_size:,} test images, {event.batches_per_epoch} batches per epoch{where}"
        )
        total = event.epochs * event.batches_per_epoch
        done = (event.start_epoch - 1) * event.batches_per_epoch + event.start_batch
        fields = {"loss": "-", "rate": "-"}
        self.run_task = self.progress.add_task("run", total=total, completed=done, **fields)
        self.epoch_task = self.progress.add_task(
            f"epoch {event.start_epoch}", total=event.batches_per_epoch, completed=event.start_batch, **fields
        )

    def _finished(self, event: ev.Finished) -> None:
        glob = event.statistics.get("global", {})
        if glob:
            self.console.print(
                f"[bold green]Done.[/bold green] best epoch {event.best_epoch} (test loss {event.best_test_loss:.4f}); "
                f"global precision {glob['precision']:.4f}, recall {glob['recall']:.4f}, F1 {glob['f1_score']:.4f}"
            )
        else:
            self.console.print("[bold green]Done.[/bold green]")
