"""``savi-tui train``: a training in this terminal, or in the background (``--detach``).

In the terminal, the first SIGINT, SIGTERM or SIGHUP stops at the next batch and saves, and
a second exits at once. A SIGHUP (the SSH connection dropped) then hands the run over to a
background process unless ``--on-hangup stop``. SIGUSR1 is a stop asked by another process
(``savi-tui stop``, the app): it saves and never exits at once, however often it comes.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from savi_tui.core.config import TrainConfig
from savi_tui.core.errors import ExperimentError, SaviError, describe_error
from savi_tui.core.recipes import recipe_defaults
from savi_tui.core.run_control import STOP_REQUEST

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def train(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.cli_progress import TrainingProgress

    if args.seeds is not None:
        return _queue_group(args, experiments_root, datasets_root)
    progress = TrainingProgress()
    trainer = _trainer(args, experiments_root, datasets_root, progress.handle)
    if args.detach:
        return _detach(trainer, args, experiments_root, datasets_root)
    received, previous = _install_stop_handlers(trainer, progress)
    try:
        with progress:
            outcome = trainer.run()
    except (OSError, SaviError) as error:
        _say(f"savi-tui: error: training stopped: {error}")
        return 1
    except Exception as error:  # e.g. a RuntimeError inside torch.save: the last good files stay
        _say(f"savi-tui: error: training stopped: {describe_error(error)}")
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if outcome != "stopped":
        return 0
    signum = received[0] if received else signal.SIGINT
    if signum == signal.SIGHUP and args.on_hangup == "continue":
        _hand_over(trainer, experiments_root, datasets_root)
    return 128 + int(signum)


def _trainer(args, experiments_root: Path, datasets_root: Path, on_event):
    """The run the flags ask for, every check done (and a new experiment created)."""
    from savi_tui.cli_model_options import refuse_model_flags_on_resume
    from savi_tui.core.experiments import latest_resumable

    resume_name = args.resume or (args.name if args.resume_training else None)
    if args.resume_training and resume_name is None:
        resume_name = latest_resumable(experiments_root)
        if resume_name is None:
            raise ExperimentError(f"no interrupted experiment to resume in {experiments_root}")
    common = {"root": experiments_root, "datasets_root": datasets_root, "on_event": on_event}
    if resume_name is not None:
        from savi_tui.core.runs import resume_run

        refuse_model_flags_on_resume(args)
        return resume_run(resume_name, epochs=args.num_epochs, device=args.device, **common)
    from savi_tui.core.runs import new_run

    return new_run(_new_config(args), name=args.name, **common)


def _new_config(args) -> TrainConfig:
    """The settings the flags give a new experiment."""
    from savi_tui.cli_model_options import model_options_from_flags

    defaults = recipe_defaults(args.recipe)
    return TrainConfig(
        model=args.model,
        model_options=model_options_from_flags(args, args.model),
        dataset="folder" if args.dataset_folder else args.dataset,
        data_folder=str(Path(args.dataset_folder).resolve()) if args.dataset_folder else None,
        batch_size=_given(args.batch_size, defaults["batch_size"]),
        epochs=_given(args.num_epochs, defaults["epochs"]),
        learning_rate=_given(args.learning_rate, defaults["learning_rate"]),
        optimizer=args.optimizer,
        percentage=args.percentage_examples,
        seed=args.seed,
        device=_given(args.device, TrainConfig().device),
        recipe=args.recipe,
    )


def _queue_group(args, experiments_root: Path, datasets_root: Path) -> int:
    """``--seeds``: one experiment per seed, queued for the background runner (started if none runs)."""
    from savi_tui.core.queue_runner import RUNNER_LOG, start_runner_if_needed
    from savi_tui.core.seed_groups import create_group, parse_seeds

    if args.resume or args.resume_training:
        raise ExperimentError("--seeds makes a new group and cannot resume; to queue one: savi-tui queue add NAME")
    seeds = parse_seeds(args.seeds)
    config, roots = _new_config(args), {"root": experiments_root, "datasets_root": datasets_root}
    experiments = create_group(config, seeds, name=args.name, **roots)
    group, where = experiments[0].read_config().group, _roots_flags(experiments_root, datasets_root)
    pid = start_runner_if_needed(experiments_root, datasets_root)
    runner = f"a background runner (pid {pid})" if pid is not None else "the queue runner already running"
    print(
        f"queued group {group}: {', '.join(e.name for e in experiments)}; {runner} trains them one at a time.\n"
        f"  the queue:   savi-tui queue list{where}\n"
        f"  follow one:  savi-tui watch {experiments[0].name}{where}   (or open savi-tui)\n"
        f"  its output:  {experiments_root / RUNNER_LOG}"
    )
    return 0


def _given(value, default):
    """The flag's value when given (0 included: the core refuses it), else the default."""
    return default if value is None else value


def _detach(trainer, args, experiments_root: Path, datasets_root: Path) -> int:
    """Everything is checked and the experiment exists: a background process trains it."""
    from savi_tui.core.run_control import BACKGROUND_LOG, resume_in_background

    extra = []
    for flag, key in (("-ne", "epochs"), ("--device", "device")):
        if key in trainer.config_changes:
            extra += [flag, str(trainer.config_changes[key])]
    process = resume_in_background(trainer.experiment, experiments_root, datasets_root, *extra)
    name = trainer.experiment.name
    where = _roots_flags(experiments_root, datasets_root)
    print(
        f"{name} trains in the background (pid {process.pid}).\n"
        f"  follow it:  savi-tui watch {name}{where}   (or open savi-tui)\n"
        f"  stop it:    savi-tui stop {name}{where}\n"
        f"  its output: {trainer.experiment.path / BACKGROUND_LOG}"
    )
    return 0


def _roots_flags(experiments_root: Path, datasets_root: Path) -> str:
    """The root flags a printed command needs, as in ``resume_command``."""
    from savi_tui.core.runs import resume_command

    return resume_command("x", experiments_root, datasets_root).removeprefix("savi-tui train --resume x")


def _hand_over(trainer, experiments_root: Path, datasets_root: Path) -> None:
    """The terminal went away with the run saved: it goes on in a process of its own."""
    from savi_tui.core.run_control import BACKGROUND_LOG, resume_in_background

    process = resume_in_background(trainer.experiment, experiments_root, datasets_root)
    _say(
        f"savi-tui: the terminal went away; {trainer.experiment.name} goes on in the background "
        f"(pid {process.pid}, output in {trainer.experiment.path / BACKGROUND_LOG})"
    )


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:  # no terminal any more
        pass


def _install_stop_handlers(trainer, progress) -> tuple[list[int], dict]:
    """The first stop signal stops at the next batch and saves; a second from the terminal exits at once."""
    received: list[int] = []

    def sigintHandler(signum, frame):  # noqa: N802 - the course's name for it
        if signum == STOP_REQUEST:
            if not received:
                received.append(signum)
                progress.note_stopping("a stop request")
            trainer.request_stop()
            return
        received.append(signum)
        if sum(s != STOP_REQUEST for s in received) > 1:
            # the files on disk are whole: every write is atomic
            os.write(2, b"\nsavi-tui: second signal, exiting now; the last saved checkpoint is kept\n")
            os._exit(128 + signum)
        progress.note_stopping(signal.Signals(signum).name)
        trainer.request_stop()

    previous = {}
    for signum in (*STOP_SIGNALS, STOP_REQUEST):
        previous[signum] = signal.signal(signum, sigintHandler)
    return received, previous
