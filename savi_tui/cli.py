"""The command line: ``savi-tui`` opens the app; subcommands work without it.

``train`` speaks the course's flags (-bs -ne -pe -df -ep -rt). Bad input gets
one line on stderr and exit code 2, before anything is written. torch is only
imported by the commands that need it, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from savi_tui import __version__
from savi_tui.core.config import DATASETS, DEVICES, OPTIMIZERS, RECIPES, TrainConfig
from savi_tui.core.errors import SaviError
from savi_tui.core.models import MODELS
from savi_tui.core.recipes import recipe_defaults

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _number(kind: type, low: float, high: float | None = None, *, open_low: bool = False):
    """An argparse type: a number of ``kind`` in [low, high] (or (low, high] with ``open_low``)."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        too_low = value <= low if open_low else value < low
        if too_low or (high is not None and value > high):
            bounds = f"in ({low:g}, {high:g}]" if open_low else "0 or more" if low == 0 else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    return parse


_positive_int = _number(int, 1)
_non_negative_int = _number(int, 0)
_fraction = _number(float, 0, 1, open_low=True)
_positive_float = _number(float, 0, 10, open_low=True)


def _roots_options(default) -> argparse.ArgumentParser:
    """-ep and --datasets-root, for the top level and for each command. A command's own copy
    must default to SUPPRESS: with None it would overwrite what was given before the command
    (``savi-tui -ep DIR list`` would list the default folder)."""
    roots = argparse.ArgumentParser(add_help=False, argument_default=default)
    roots.add_argument(
        "-ep",
        "--experiment_path",
        metavar="DIR",
        help="experiments root (default: $SAVI_EXPERIMENTS or ~/data/savi_experiments)",
    )
    roots.add_argument(
        "--datasets-root",
        metavar="DIR",
        help="where datasets live (default: $SAVI_DATASETS or ~/data/savi_datasets)",
    )
    return roots


def build_parser() -> argparse.ArgumentParser:
    top_roots, roots = _roots_options(None), _roots_options(argparse.SUPPRESS)
    parser = _Parser(
        prog="savi-tui",
        description="Train image classifiers (MNIST first) from the terminal. Without a command, opens the app.",
        parents=[top_roots],
    )
    parser.add_argument("--version", action="version", version=f"savi-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", parents=[roots], help="train a model (Ctrl+C saves and stops)")
    train.add_argument("-m", "--model", default="ModelFullyConnected", help=f"one of: {', '.join(MODELS)}")
    train.add_argument("-n", "--name", help="experiment name (default: date, time and model)")
    train.add_argument("-bs", "--batch_size", type=_positive_int, help="batch size (default 512; fast recipe 64)")
    train.add_argument(
        "-ne",
        "--num_epochs",
        type=_positive_int,
        help="epochs (default 10; fast recipe 1); on resume, a larger number extends the run",
    )
    train.add_argument(
        "-lr", "--learning_rate", type=_positive_float, help="learning rate (default 1e-3; fast recipe's peak 3e-3)"
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    train.add_argument(
        "-pe", "--percentage_examples", type=_fraction, default=1.0, help="fraction of examples, (0, 1] (default 1)"
    )
    train.add_argument("--dataset", choices=[d for d in DATASETS if d != "folder"], default="mnist")
    train.add_argument("-df", "--dataset_folder", metavar="DIR", help="the course's folder of JPGs instead")
    train.add_argument("--seed", type=_non_negative_int, default=0)
    train.add_argument("--device", choices=DEVICES, help="auto (default), cpu or cuda; on resume, moves the run")
    train.add_argument(
        "--recipe",
        choices=RECIPES,
        default="default",
        help="default: the course's (constant learning rate); fast: one-cycle schedule, normalized inputs, "
        "label smoothing (ModelConvNet above 99%% in one epoch)",
    )
    resume = train.add_mutually_exclusive_group()
    resume.add_argument(
        "-rt",
        "--resume_training",
        action="store_true",
        help="resume -n NAME, or else the latest interrupted experiment",
    )
    resume.add_argument("--resume", metavar="NAME", help="resume this experiment")

    commands.add_parser("list", parents=[roots], help="list experiments and their state")
    show = commands.add_parser("show", parents=[roots], help="an experiment's config, epochs and metrics")
    show.add_argument("name")
    export = commands.add_parser("export", parents=[roots], help="export an experiment's model to ONNX")
    export.add_argument("name")
    export.add_argument("--checkpoint", choices=("best", "status"), default="best")
    summary = commands.add_parser("summary", help="torchinfo summary of a model")
    summary.add_argument("model", help=f"one of: {', '.join(MODELS)}")
    data = commands.add_parser("data", help="dataset tools")
    data_commands = data.add_subparsers(dest="data_command", metavar="COMMAND", parser_class=_Parser, required=True)
    data_import = data_commands.add_parser(
        "import", parents=[roots], help="install IDX files (.gz or raw) from DIR, for machines without internet"
    )
    data_import.add_argument("source", metavar="DIR")
    data_import.add_argument("--dataset", choices=[d for d in DATASETS if d != "folder"], default="mnist")
    return parser


def _roots(args) -> tuple[Path, Path]:
    from savi_tui.core.data import default_datasets_root
    from savi_tui.core.experiments import default_experiments_root

    experiments = Path(args.experiment_path) if args.experiment_path else default_experiments_root()
    datasets = Path(args.datasets_root) if args.datasets_root else default_datasets_root()
    return experiments, datasets


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    experiments_root, datasets_root = _roots(args)
    if args.command is None:
        from savi_tui.tui.app import run_app

        return run_app(experiments_root=experiments_root, datasets_root=datasets_root)
    handler = {
        "train": _train,
        "list": _list,
        "show": _show,
        "export": _export,
        "summary": _summary,
        "data": _data_import,
    }[args.command]
    try:
        return handler(args, experiments_root, datasets_root)
    except SaviError as error:
        print(f"savi-tui: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


# -- train --------------------------------------------------------------------


def _train(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.cli_progress import TrainingProgress
    from savi_tui.core.errors import ExperimentError
    from savi_tui.core.experiments import latest_resumable

    resume_name = args.resume or (args.name if args.resume_training else None)
    if args.resume_training and resume_name is None:
        resume_name = latest_resumable(experiments_root)
        if resume_name is None:
            raise ExperimentError(f"no interrupted experiment to resume in {experiments_root}")
    progress = TrainingProgress()
    if resume_name is not None:
        from savi_tui.core.runs import resume_run

        trainer = resume_run(
            resume_name,
            root=experiments_root,
            epochs=args.num_epochs,
            device=args.device,
            datasets_root=datasets_root,
            on_event=progress.handle,
        )
    else:
        from savi_tui.core.runs import new_run

        defaults = recipe_defaults(args.recipe)
        config = TrainConfig(
            model=args.model,
            dataset="folder" if args.dataset_folder else args.dataset,
            data_folder=str(Path(args.dataset_folder).resolve()) if args.dataset_folder else None,
            batch_size=args.batch_size or defaults["batch_size"],
            epochs=args.num_epochs or defaults["epochs"],
            learning_rate=args.learning_rate or defaults["learning_rate"],
            optimizer=args.optimizer,
            percentage=args.percentage_examples,
            seed=args.seed,
            device=args.device or "auto",
            recipe=args.recipe,
        )
        trainer = new_run(
            config, root=experiments_root, name=args.name, datasets_root=datasets_root, on_event=progress.handle
        )
    received, previous = _install_stop_handlers(trainer, progress)
    try:
        with progress:
            outcome = trainer.run()
    except (OSError, SaviError) as error:
        print(f"savi-tui: error: training stopped: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # e.g. a RuntimeError inside torch.save: the last good files stay
        print(f"savi-tui: error: training stopped: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if outcome == "stopped":
        signum = received[0] if received else signal.SIGINT
        return 128 + int(signum)
    return 0


def _install_stop_handlers(trainer, progress) -> tuple[list[int], dict]:
    """SIGINT, SIGTERM, SIGHUP: first one stops at the next batch and saves; a second exits at once."""
    received: list[int] = []

    def sigintHandler(signum, frame):  # noqa: N802 - the course's name for it
        received.append(signum)
        if len(received) > 1:
            # the files on disk are whole: every write is atomic
            os.write(2, b"\nsavi-tui: second signal, exiting now; the last saved checkpoint is kept\n")
            os._exit(128 + signum)
        progress.note_stopping(signal.Signals(signum).name)
        trainer.request_stop()

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[signum] = signal.signal(signum, sigintHandler)
    return received, previous


# -- list, show, export, summary, data import --------------------------------


def _console():
    """Rich console on stdout; piped output is not cut to 80 columns."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _list(args, experiments_root: Path, datasets_root: Path) -> int:
    from rich import box
    from rich.table import Table

    from savi_tui.core.experiments import list_experiments

    infos = list_experiments(experiments_root)
    console = _console()
    if not infos:
        console.print(f"No experiments in {experiments_root}. Start one with: savi-tui train -m ModelConvNet")
        return 0
    table = Table(title=f"Experiments in {experiments_root}", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("name", "model", "dataset", "epochs", "best", "test loss", "F1", "state", "modified"):
        numeric = column in ("epochs", "best", "test loss", "F1")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=column != "name")
    for info in infos:
        epochs = f"{info.epochs_done}/{info.epochs_planned}"
        if info.batch_idx:
            epochs += f" +{info.batch_idx}b"
        table.add_row(
            info.name,
            info.model.removeprefix("Model"),
            info.dataset,
            epochs,
            str(info.best_epoch or "-"),
            f"{info.best_test_loss:.4f}" if info.best_test_loss is not None else "-",
            f"{info.f1:.4f}" if info.f1 is not None else "-",
            info.state,
            time.strftime("%m-%d %H:%M", time.localtime(info.modified)),
        )
    console.print(table)
    return 0


def _show(args, experiments_root: Path, datasets_root: Path) -> int:
    from rich.table import Table

    from savi_tui.core.experiments import open_experiment, read_experiment_info

    experiment = open_experiment(experiments_root, args.name)
    info = read_experiment_info(experiment.path)
    console = _console()
    console.print(f"[bold]{info.name}[/bold]  {info.state}  ({experiment.path})")
    if info.problem:
        console.print(f"[red]{info.problem}[/red]")
    console.print("config: " + ", ".join(f"{k}={v}" for k, v in info.config.items()))
    epochs = Table(title="epochs")
    for column in ("epoch", "train loss", "test loss", "accuracy", "F1", "seconds", ""):
        epochs.add_column(column, justify="right")
    for r in info.history:
        mark = "best" if r.epoch == info.best_epoch else ""
        epochs.add_row(
            str(r.epoch),
            f"{r.train_loss:.4f}",
            f"{r.test_loss:.4f}",
            f"{r.test_accuracy:.2%}",
            f"{r.f1:.4f}",
            f"{r.seconds:.1f}",
            mark,
        )
    console.print(epochs)
    statistics = experiment.read_statistics()
    if statistics:
        console.print(f"metrics of the best checkpoint: epoch {statistics['epoch']}, selected on the test set")
        classes = Table()
        for column in ("class", "TP", "FP", "FN", "precision", "recall", "F1"):
            classes.add_column(column, justify="right")
        rows = [(str(c["digit"]), c) for c in statistics["per_class"]] + [("global", statistics["global"])]
        for label, c in rows:
            classes.add_row(
                label,
                str(c["TP"]),
                str(c["FP"]),
                str(c["FN"]),
                f"{c['precision']:.4f}",
                f"{c['recall']:.4f}",
                f"{c['f1_score']:.4f}",
            )
        macro = statistics["macro"]
        classes.add_row(
            "macro", "", "", "", f"{macro['precision']:.4f}", f"{macro['recall']:.4f}", f"{macro['f1_score']:.4f}"
        )
        console.print(classes)
    files = sorted(
        p.name
        for p in experiment.path.iterdir()
        if not p.name.startswith(".") and ".prev." not in p.name and not p.name.endswith(".sha256")
    )
    console.print("files: " + ", ".join(files))
    return 0


def _export(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.experiments import open_experiment
    from savi_tui.core.export import export_onnx

    experiment = open_experiment(experiments_root, args.name)
    result = export_onnx(experiment, checkpoint=args.checkpoint)
    print(result.message)
    return 0


def _summary(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.models import check_model_name, model_summary

    check_model_name(args.model)
    print(model_summary(args.model))
    return 0


def _data_import(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.data import import_idx

    target = import_idx(args.source, args.dataset, datasets_root)
    print(f"imported {args.dataset} (train and test) into {target}")
    return 0
