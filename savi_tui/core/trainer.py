"""The training loop. It never prints: it emits events and writes the experiment.

``Trainer.run()`` holds the experiment's lock, trains from where the experiment
stands (a fresh start, the epoch after the saved one, or the saved batch inside
an epoch), and checks ``stop_event`` before every batch. Whoever runs it decides
how to stop it (``request_stop()`` from a signal handler or a key binding).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace

from savi_tui.core import events as ev
from savi_tui.core.atomic import atomic_write_json, atomic_write_text, remove_temp_files
from savi_tui.core.checkpoint import load_checkpoint_with_fallback, load_model_weights, save_checkpoint
from savi_tui.core.collector import garbage_settled_while_training, settle_garbage
from savi_tui.core.data import Data, batch_slices, batches_per_epoch, epoch_order
from savi_tui.core.errors import CheckpointError, SaviError, describe_error
from savi_tui.core.experiments import Experiment
from savi_tui.core.metrics import confusion_matrix, statistics_from_confusion
from savi_tui.core.models import MODELS, create_model, model_summary
from savi_tui.core.plots import confusion_plot_path, write_confusion_plot, write_training_plot
from savi_tui.core.predictions import predictions_of_evaluation, predictions_path, write_predictions
from savi_tui.core.progress import Progress, read_progress, write_progress
from savi_tui.core.recipes import autocast_dtype, build_optimizer, build_scheduler, input_normalization, label_smoothing
from savi_tui.core.run_log import RunLogWriter
from savi_tui.core.train_state import PartialEpoch, TrainState, state_error

EVAL_BATCH_SIZE = 1024  # twice the course batch; larger batches cost memory for nothing
PROGRESS_INTERVAL = 0.1  # seconds between BatchProgress events


class Trainer:
    def __init__(
        self,
        experiment: Experiment,
        data: Data,
        on_event: Callable[[ev.Event], None] | None = None,
        *,
        resume_command: str = "",
    ) -> None:
        self.experiment = experiment
        self.config = experiment.read_config()
        self.data = data
        self.on_event = on_event or (lambda event: None)
        self.resume_command = resume_command or f"savi-tui train --resume {experiment.name}"
        self.stop_event = threading.Event()
        self.config_changes: dict = {}  # what a resume changes: more epochs, another device
        self._log = RunLogWriter(experiment.events_path)

    def request_stop(self) -> None:
        """Stop at the next batch boundary and save; safe from any thread or signal handler."""
        self.stop_event.set()

    def _emit(self, event: ev.Event) -> None:
        """Every event goes to the run's log (for any follower) and to whoever runs the trainer."""
        self._log.write(event)
        self.on_event(event)

    # -- seams for tests and tools: called in the training thread; they do nothing here --

    def after_setup(self) -> None:
        """The model, optimizer and restored state exist; nothing has trained yet."""

    def after_batch(self) -> None:
        """A batch has trained and its progress is reported."""

    def before_save(self) -> None:
        """``status.pkl`` is about to be written."""

    def run(self) -> str:
        """Train; return ``"finished"`` or ``"stopped"``. Errors emit ``Failed`` and propagate."""
        with self.experiment.lock(), garbage_settled_while_training(), closing(self._log):
            try:
                remove_temp_files(self.experiment.path)
                self._log.start()
                if self.config_changes:
                    self.config = replace(self.config, **self.config_changes)
                    self.experiment.write_config(self.config)
                return self._train()
            except BaseException as error:
                message = describe_error(error)
                self._record_failure(message)
                self._emit(ev.Failed(message))
                raise

    # -- the loop -----------------------------------------------------------

    def _train(self) -> str:
        import torch
        import torch.nn.functional as F

        from savi_tui.core.device import resolve_device

        cfg, data = self.config, self.data
        device = resolve_device(cfg.device)
        size, self.steps = len(data.train), batches_per_epoch(len(data.train), cfg.batch_size)
        self._setup(device)
        self.after_setup()
        settle_garbage()  # torch, the data and the model are here for the whole run
        # both splits live on the device (uint8, 1 byte a pixel): no host→device copy per batch
        train_images, train_labels = data.train.images.to(device), data.train.labels.to(device)
        self.test_images, self.test_labels = data.test.images.to(device), data.test.labels.to(device)
        state = self.state
        self._emit(
            ev.RunStarted(
                self.experiment.name,
                cfg.model,
                str(device),
                cfg.epochs,
                state.epochs_done + 1,
                state.batch_idx,
                self.steps,
                size,
                len(data.test),
                tuple(state.history),
                state.best_epoch,
            )
        )
        for epoch_idx in range(state.epoch_idx + 1, cfg.epochs):
            # an epoch resumed mid-way counts the seconds it had before the stop
            self.epoch_started = time.perf_counter() - state.partial_epoch.seconds
            order = epoch_order(size, cfg.seed, epoch_idx, device)
            self.model.train()
            for begin, end in batch_slices(size, cfg.batch_size, state.batch_idx):
                if self.stop_event.is_set():
                    return self._stop()
                # one gather per batch, never one example at a time
                index = order[begin:end]
                images, labels = train_images.index_select(0, index), train_labels.index_select(0, index)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.model(self._inputs(images))
                    loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.loss_sum += loss.detach().double() * (end - begin)
                state.partial_epoch.count += end - begin
                state.batch_idx += 1
                self._report_progress(epoch_idx)
                self.after_batch()
            test_loss, confusion, answers = self._evaluate()
            self._finish_epoch(epoch_idx, test_loss, confusion, time.perf_counter() - self.epoch_started, answers)
        return self._complete()

    def _inputs(self, images):
        """uint8 [B,1,28,28] → float in [0, 1] (normalized if the recipe says so), in the model's memory format."""
        x = images.float().div_(255.0)
        if self.normalization is not None:
            mean, std = self.normalization
            x.sub_(mean).div_(std)
        return x.contiguous(memory_format=self.memory_format)

    def _evaluate(self):
        import torch
        import torch.nn.functional as F

        self.model.eval()
        size = len(self.data.test)
        total, predictions, confidences = torch.zeros((), dtype=torch.float64, device=self.device), [], []
        with torch.inference_mode():  # float32, large batches, already on the device
            for begin, end in batch_slices(size, EVAL_BATCH_SIZE):
                logits = self.model(self._inputs(self.test_images[begin:end]))
                total += F.cross_entropy(logits, self.test_labels[begin:end], reduction="sum")
                confidence, predicted = logits.softmax(1).max(1)  # for predictions.bin, in the same pass
                predictions.append(predicted)
                confidences.append(confidence)
        predicted, confidence = torch.cat(predictions).cpu(), torch.cat(confidences).float().cpu()
        confusion = confusion_matrix(self.data.test.labels, predicted)
        return total.item() / size, confusion.tolist(), (predicted, confidence)

    # -- state --------------------------------------------------------------

    def _setup(self, device) -> None:
        import torch

        from savi_tui.core.cpu_kernels import route_to_cpu_kernels

        cfg = self.config
        self.device = device
        convolutional = MODELS[cfg.model].convolutional
        self.memory_format = torch.channels_last if convolutional else torch.contiguous_format
        self.normalization = input_normalization(cfg)
        self.label_smoothing = label_smoothing(cfg)
        self.bf16 = autocast_dtype(cfg, device) is not None
        torch.manual_seed(cfg.seed)
        self.model = create_model(cfg.model, cfg.model_options).to(device, memory_format=self.memory_format)
        if device.type == "cpu":
            route_to_cpu_kernels(self.model)
        self.optimizer = build_optimizer(cfg, self.model)
        self.scheduler = build_scheduler(cfg, self.optimizer, self.steps)
        self.state = TrainState(model_name=cfg.model, config=cfg.to_dict())
        self.loss_sum = torch.zeros((), dtype=torch.float64, device=device)  # summed on the device: no sync a batch
        self._last_report = (time.perf_counter(), 0.0, 0)
        if self.experiment.status_path.exists():
            self._restore(torch)
        if not self.experiment.summary_path.exists():
            atomic_write_text(self.experiment.summary_path, model_summary(cfg.model, cfg.model_options) + "\n")

    def _restore(self, torch) -> None:
        state, fallback_error = load_checkpoint_with_fallback(self.experiment.status_path)
        if fallback_error is not None:
            self._emit(ev.Message(f"{fallback_error}; resuming from the previous checkpoint"))
        path = self.experiment.status_path
        if state.model_name != self.config.model:
            raise CheckpointError(f"{path}: holds {state.model_name} weights, the experiment is {self.config.model}")
        load_model_weights(self.model, state.model_state_dict, path)
        try:
            self.optimizer.load_state_dict(state.optimizer_state_dict)
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state.scheduler_state_dict or {})
        except (ValueError, KeyError, RuntimeError) as error:
            raise CheckpointError(f"{path}: optimizer state does not fit: {error}") from None
        try:
            torch.set_rng_state(state.rng_state["torch"])
            if self.device.type == "cuda" and state.rng_state.get("cuda"):
                torch.cuda.set_rng_state_all(state.rng_state["cuda"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise state_error(path, error) from None
        self.loss_sum.fill_(state.partial_epoch.loss_sum)
        # the tensors now live in the model and optimizer: the state keeps only where it stands
        self.state = replace(state, kind="status", model_state_dict={}, optimizer_state_dict={}, rng_state={})

    def _checkpoint(self, kind: str) -> TrainState:
        """The state as it stands, with copies of every tensor on the CPU."""
        import torch

        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        seconds = time.perf_counter() - self.epoch_started if self.state.batch_idx else 0.0
        return replace(
            self.state,
            kind=kind,
            config=self.config.to_dict(),
            model_state_dict={k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            optimizer_state_dict=_to_cpu(self.optimizer.state_dict()),
            scheduler_state_dict=None if self.scheduler is None else self.scheduler.state_dict(),
            rng_state=rng,
            partial_epoch=PartialEpoch(float(self.loss_sum.item()), self.state.partial_epoch.count, seconds),
        )

    def _save_status(self) -> None:
        self.before_save()
        save_checkpoint(self.experiment.status_path, self._checkpoint("status"), keep_previous=True)
        self._emit(ev.CheckpointSaved(str(self.experiment.status_path), self.state.position(self.steps)))

    def _progress(self, *, finished: bool = False) -> Progress:
        state = self.state
        return Progress(
            epochs_planned=self.config.epochs,
            history=tuple(state.history),
            batch_idx=state.batch_idx,
            batches_per_epoch=self.steps,
            finished=finished,
            best_epoch=state.best_epoch,
            best_test_loss=state.best_test_loss,
        )

    def _write_progress(self, progress: Progress) -> None:
        """The one writer of progress.json."""
        write_progress(self.experiment.progress_path, progress)

    def _record_failure(self, message: str) -> None:
        """Add the error to progress.json as it stands; never hides the error that stopped the run."""
        try:
            progress = read_progress(self.experiment.progress_path) or Progress(epochs_planned=self.config.epochs)
            self._write_progress(progress.with_error(message))
        except (OSError, SaviError):  # a full disk fails this too; a damaged progress.json stays as it is
            pass

    # -- the named points where events come from ----------------------------

    def _report_progress(self, epoch_idx: int) -> None:
        now = time.perf_counter()
        last_time, last_sum, last_count = self._last_report
        count_now = self.state.partial_epoch.count
        if now - last_time < PROGRESS_INTERVAL and self.state.batch_idx < self.steps:
            return
        loss_sum = float(self.loss_sum.item())
        count = count_now - last_count
        self._last_report = (now, loss_sum, count_now)
        if count > 0:
            rate = count / max(now - last_time, 1e-9)
            self._emit(
                ev.BatchProgress(epoch_idx + 1, self.state.batch_idx, self.steps, (loss_sum - last_sum) / count, rate)
            )

    def _finish_epoch(self, epoch_idx: int, test_loss: float, confusion, seconds: float, answers) -> None:
        statistics = statistics_from_confusion(confusion)
        state = self.state
        record = ev.EpochRecord(
            epoch=epoch_idx + 1,
            train_loss=float(self.loss_sum.item()) / max(state.partial_epoch.count, 1),
            test_loss=test_loss,
            test_accuracy=statistics["accuracy"],
            f1=statistics["global"]["f1_score"],
            seconds=seconds,
        )
        state.history.append(record)
        state.epoch_idx, state.batch_idx, state.partial_epoch = epoch_idx, 0, PartialEpoch()
        self.loss_sum.zero_()
        is_best = state.best_test_loss is None or test_loss < state.best_test_loss
        if is_best:  # best.pkl before status.pkl: a kill between the two redoes this epoch and its best
            state.best_epoch_idx, state.best_test_loss = epoch_idx, test_loss
            save_checkpoint(self.experiment.best_path, self._checkpoint("best"), keep_previous=True)
            atomic_write_json(self.experiment.statistics_path, self._statistics_document(record, statistics))
            self._write_best_answers(record.epoch, confusion, *answers)
            self._emit(ev.BestUpdated(str(self.experiment.best_path), record.epoch, test_loss))
        self._save_status()
        self._write_progress(self._progress())
        write_training_plot(self.experiment.plot_path, state.history, state.best_epoch, self.experiment.name)
        self._emit(ev.EpochFinished(record, is_best, state.best_epoch))
        settle_garbage()  # the first epoch's plot imported matplotlib
        self._last_report = (time.perf_counter(), 0.0, 0)

    def _write_best_answers(self, epoch: int, confusion, predicted, confidence) -> None:
        """predictions.bin and confusion_matrix.png of the new best, for the gallery and the matrix."""
        cfg, test, path = self.config, self.data.test, self.experiment.path
        source = dict(dataset=self.data.name, data_folder=cfg.data_folder, percentage=cfg.percentage, seed=cfg.seed)
        answers = predictions_of_evaluation(epoch, test.labels, predicted, confidence, test.images, source)
        write_predictions(predictions_path(path), answers)
        write_confusion_plot(confusion_plot_path(path), confusion, f"{self.experiment.name}, epoch {epoch}")

    def _statistics_document(self, record: ev.EpochRecord, statistics: dict) -> dict:
        return {
            "experiment": self.experiment.name,
            "model": self.config.model,
            "dataset": self.data.name,
            "checkpoint": "best.pkl",
            "epoch": record.epoch,
            "selected_on": "test set (lowest test loss)",
            "test_loss": record.test_loss,
            **statistics,
        }

    def _stop(self) -> str:
        self._save_status()
        self._write_progress(self._progress())
        self._emit(ev.Stopped(self.state.position(self.steps), self.resume_command))
        return "stopped"

    def _complete(self) -> str:
        self._write_progress(self._progress(finished=True))
        statistics = self.experiment.read_statistics() or {}
        state = self.state
        self._emit(ev.Finished(len(state.history), state.best_epoch, state.best_test_loss, statistics))
        return "finished"


def _to_cpu(value):
    """A copy of a nested state dict with every tensor moved to the CPU."""
    if hasattr(value, "detach"):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value
