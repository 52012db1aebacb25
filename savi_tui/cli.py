"""The command line: ``savi-tui`` opens the app; subcommands work without it.

``train`` speaks the course's flags (-bs -ne -pe -df -ep -rt). Bad input gets
one line on stderr and exit code 2, before anything is written; the defaults and
the allowed ranges are the core's (``TrainConfig``, ``recipe_defaults``). torch is
only imported by the commands that need it, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from savi_tui import __version__
from savi_tui.cli_compare import add_compare_parser
from savi_tui.cli_model_options import add_model_option_flags
from savi_tui.core.config import DATASETS, DEVICES, OPTIMIZERS, RECIPES, TrainConfig
from savi_tui.core.errors import SaviError
from savi_tui.core.models import MODELS
from savi_tui.core.recipes import recipe_defaults

EXIT_BAD_INPUT = 2
HANGUP_CHOICES = ("continue", "stop")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _number(kind: type):
    """An argparse type that only parses; the range is checked by ``TrainConfig.validate``."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None

    return parse


_whole_number, _real_number = _number(int), _number(float)
_DEFAULTS = TrainConfig()


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
    parser.add_argument(
        "--on-hangup",
        choices=HANGUP_CHOICES,
        default="continue",
        help="the app, when its terminal goes away while it trains: continue in the background (default) or stop",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    course, fast = recipe_defaults("default"), recipe_defaults("fast")
    train = commands.add_parser("train", parents=[roots], help="train a model (Ctrl+C saves and stops)")
    train.add_argument("-m", "--model", default=_DEFAULTS.model, help=f"one of: {', '.join(MODELS)}")
    add_model_option_flags(train, {int: _whole_number, float: _real_number})
    train.add_argument("-n", "--name", help="experiment name (default: date, time and model)")
    train.add_argument(
        "-bs",
        "--batch_size",
        type=_whole_number,
        help=f"batch size (default {course['batch_size']}; fast recipe {fast['batch_size']})",
    )
    train.add_argument(
        "-ne",
        "--num_epochs",
        type=_whole_number,
        help=f"epochs (default {course['epochs']}; fast recipe {fast['epochs']}); "
        "on resume, a larger number extends the run",
    )
    train.add_argument(
        "-lr",
        "--learning_rate",
        type=_real_number,
        help=f"learning rate (default {course['learning_rate']:g}; fast recipe's peak {fast['learning_rate']:g})",
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=_DEFAULTS.optimizer)
    train.add_argument(
        "-pe",
        "--percentage_examples",
        type=_real_number,
        default=_DEFAULTS.percentage,
        help=f"fraction of the examples used, 0.1 for a tenth (default {_DEFAULTS.percentage:g})",
    )
    train.add_argument("--dataset", choices=[d for d in DATASETS if d != "folder"], default=_DEFAULTS.dataset)
    train.add_argument("-df", "--dataset_folder", metavar="DIR", help="the course's folder of JPGs instead")
    train.add_argument("--seed", type=_whole_number, default=_DEFAULTS.seed)
    train.add_argument(
        "--seeds",
        metavar="SEEDS",
        help="repeat with these seeds (0-4 or 0,3,7): a group NAME-s0, NAME-s3, ..., queued for the background runner",
    )
    train.add_argument(
        "--device", choices=DEVICES, help=f"{_DEFAULTS.device} (default), cpu or cuda; on resume, moves the run"
    )
    train.add_argument(
        "--recipe",
        choices=RECIPES,
        default=_DEFAULTS.recipe,
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
    train.add_argument(
        "--detach", action="store_true", help="train in the background; prints how to follow and stop it"
    )
    train.add_argument(
        "--on-hangup",
        choices=HANGUP_CHOICES,
        default="continue",
        help="when the terminal goes away (SIGHUP): save and continue in the background (default), or save and stop",
    )

    watch = commands.add_parser("watch", parents=[roots], help="follow a running experiment live (Ctrl+C leaves)")
    watch.add_argument("name")
    stop = commands.add_parser("stop", parents=[roots], help="ask a running experiment to stop and save")
    stop.add_argument("name")
    serve = commands.add_parser("serve", parents=[roots], help="the app in a web browser, on localhost")
    serve.add_argument("--port", type=_whole_number, default=8000, help="port on localhost (default 8000)")
    serve.add_argument(
        "--on-hangup",
        choices=HANGUP_CHOICES,
        default=argparse.SUPPRESS,
        help="a tab that closes while it trains: continue in the background (default) or stop",
    )

    commands.add_parser("list", parents=[roots], help="list experiments and their state")
    add_compare_parser(commands, roots)
    show = commands.add_parser("show", parents=[roots], help="an experiment's config, epochs and metrics")
    show.add_argument("name")
    show.add_argument("--errors", action="store_true", help="also the largest confusions (4 → 9: 12)")
    export = commands.add_parser("export", parents=[roots], help="export an experiment's model to ONNX")
    export.add_argument("name")
    export.add_argument("--checkpoint", choices=("best", "status"), default="best")
    summary = commands.add_parser("summary", help="torchinfo summary of a model")
    summary.add_argument("model", help=f"one of: {', '.join(MODELS)}")
    add_model_option_flags(summary, {int: _whole_number, float: _real_number})
    queue = commands.add_parser("queue", help="the queue of planned runs and its background runner")
    queue_commands = queue.add_subparsers(dest="queue_command", metavar="COMMAND", parser_class=_Parser, required=True)
    queue_commands.add_parser("list", parents=[roots], help="the queued runs in order, with their state")
    queue_add = queue_commands.add_parser("add", parents=[roots], help="queue existing experiments (to resume them)")
    queue_add.add_argument("names", nargs="+", metavar="NAME")
    queue_cancel = queue_commands.add_parser("cancel", parents=[roots], help="cancel a planned run (its folder stays)")
    queue_cancel.add_argument("name")
    queue_move = queue_commands.add_parser("move", parents=[roots], help="reorder a planned run")
    queue_move.add_argument("name")
    queue_move.add_argument("where", choices=("up", "down", "first", "last"))
    queue_run = queue_commands.add_parser("run", parents=[roots], help="train the planned runs one at a time")
    queue_run.add_argument("--detach", action="store_true", help="run in the background")
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


# the commands (None: the app) that read the experiments root; train checks it can write there too
_READ_EXPERIMENTS = (None, "train", "list", "show", "export", "watch", "stop", "serve", "queue", "compare")


def main(argv: list[str] | None = None) -> int:
    from savi_tui.core.roots import check_experiments_root

    args = build_parser().parse_args(argv)
    experiments_root, datasets_root = _roots(args)
    try:
        if args.command in _READ_EXPERIMENTS:
            check_experiments_root(experiments_root, writable=False)
    except SaviError as error:
        print(f"savi-tui: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command is None:
        from savi_tui.tui.app import run_app

        return run_app(experiments_root=experiments_root, datasets_root=datasets_root, on_hangup=args.on_hangup)
    from savi_tui import cli_compare, cli_list, cli_queue, cli_runs, cli_train, serve

    handler = {
        "train": cli_train.train,
        "watch": cli_runs.watch,
        "stop": cli_runs.stop,
        "serve": serve.serve,
        "queue": cli_queue.queue,
        "list": cli_list.list_command,
        "compare": cli_compare.compare,
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
    except OSError as error:  # a folder that cannot be written, a disk that is full: one line, not a traceback
        where = f": {error.filename}" if error.filename else ""
        print(f"savi-tui: error: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT


# -- list, show, export, summary, data import --------------------------------


def _console():
    """Rich console on stdout; piped output is not cut to 80 columns."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _show(args, experiments_root: Path, datasets_root: Path) -> int:
    from rich.table import Table

    from savi_tui.core.experiments import open_experiment, read_experiment_info
    from savi_tui.core.models import describe_options

    experiment = open_experiment(experiments_root, args.name)
    info = read_experiment_info(experiment.path)
    console = _console()
    console.print(f"[bold]{info.name}[/bold]  {info.state}  ({experiment.path})")
    if info.problem:
        console.print(f"[red]{info.problem}[/red]")
    console.print("config: " + ", ".join(f"{k}={v}" for k, v in info.config.items() if k != "model_options"))
    console.print(f"model: {describe_options(info.model, info.config.get('model_options'))}", markup=False)
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
    if args.errors:
        from savi_tui.cli_metrics import print_largest_confusions

        print_largest_confusions(console, statistics)
    return 0


def _export(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.experiments import open_experiment
    from savi_tui.core.export import export_onnx

    experiment = open_experiment(experiments_root, args.name)
    result = export_onnx(experiment, checkpoint=args.checkpoint)
    print(result.message)
    return 0


def _summary(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.cli_model_options import model_options_from_flags
    from savi_tui.core.models import model_summary

    options = model_options_from_flags(args, args.model)  # the model's name checked too
    print(model_summary(args.model, options))
    return 0


def _data_import(args, experiments_root: Path, datasets_root: Path) -> int:
    from savi_tui.core.data import import_idx

    imported = import_idx(args.source, args.dataset, datasets_root)
    if imported.warning:
        print(f"savi-tui: warning: {imported.warning}", file=sys.stderr)
    print(f"imported {args.dataset} (train and test) into {imported.target}")
    return 0
