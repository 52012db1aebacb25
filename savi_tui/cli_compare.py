"""``savi-tui compare A B ...``: the comparison's tables on stdout (rich) and ``comparison.png``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_compare_parser(commands, roots: argparse.ArgumentParser) -> None:
    compare = commands.add_parser(
        "compare", parents=[roots], help="compare two or more experiments or groups (tables and comparison.png)"
    )
    compare.add_argument("names", nargs="+", metavar="NAME", help="experiment or group names")
    compare.add_argument(
        "--out", metavar="PATH", default="comparison.png", help="the curves' picture (default ./comparison.png)"
    )


def compare(args, experiments_root: Path, datasets_root: Path) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from savi_tui.core.compare import compare as build_comparison
    from savi_tui.core.compare_plot import write_comparison_plot
    from savi_tui.core.experiments import list_experiments

    listed = list_experiments(experiments_root, verify=False)  # the figures need no checkpoint
    comparison = build_comparison(args.names, listed)  # ExperimentError: exit 2
    console = Console(width=None if sys.stdout.isatty() else 160)

    def table(title: str, first: str, rows: list[list[str]]) -> Table:
        shown = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
        shown.add_column(first)
        for name in comparison.names:
            shown.add_column(name, justify="right")
        for row in rows:
            shown.add_row(*row)
        return shown

    settings = comparison.differing_settings()
    if settings:
        console.print(table("settings that differ", "setting", settings))
    else:
        console.print("settings: the same in all")
    console.print(table("final figures (best epoch: the lowest test loss)", "figure", comparison.figure_rows()))
    for line in comparison.noise_lines():
        console.print(line, markup=False, highlight=False)
    console.print(table("per class (after the first: the difference to it)", "class", comparison.per_class_rows()))
    write_comparison_plot(args.out, comparison.entries)
    console.print(f"curves: {args.out}", markup=False, highlight=False)
    return 0
