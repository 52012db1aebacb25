"""Two or more experiments or groups side by side: the settings that differ, the final figures, the
per-class scores with their difference to the first, the curves, and for groups whether a difference
is larger than the seeds' spread. Read from the folders (statistics.json, summary.txt), no torch."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from savi_tui.core.errors import ExperimentError
from savi_tui.core.events import EpochRecord
from savi_tui.core.experiment_groups import best_accuracy, gather_groups
from savi_tui.core.group_stats import Spread, noise_statement, spread

_TOTAL_PARAMS = re.compile(r"^Total params:\s*([\d,]+)", re.MULTILINE)
IGNORED_SETTINGS = ("group",)  # the column's name already says it


@dataclass
class RunFigures:
    """One experiment's final figures (None where its files do not say)."""

    name: str
    config: dict
    history: list[EpochRecord]
    accuracy: float | None = None
    f1: float | None = None
    macro_f1: float | None = None
    best_test_loss: float | None = None
    best_epoch: int | None = None
    seconds: float = 0.0
    parameters: int | None = None
    per_class: dict[int, dict[str, float]] = field(default_factory=dict)  # digit → precision, recall, f1_score


def read_figures(info) -> RunFigures:
    """The figures of an ``ExperimentInfo``: progress from the info, per-class and macro scores from
    statistics.json, the parameter count from summary.txt."""
    figures = RunFigures(
        name=info.name,
        config=dict(info.config),
        history=list(info.history),
        accuracy=best_accuracy(info),
        f1=info.f1,
        best_test_loss=info.best_test_loss,
        best_epoch=info.best_epoch,
        seconds=sum(r.seconds for r in info.history),
    )
    statistics = _read_json(info.path / "statistics.json")
    if isinstance(statistics, dict):
        try:
            figures.macro_f1 = float(statistics["macro"]["f1_score"])
            figures.per_class = {
                int(c["digit"]): {k: float(c[k]) for k in ("precision", "recall", "f1_score")}
                for c in statistics["per_class"]
            }
        except (KeyError, TypeError, ValueError):
            pass  # an older or damaged file: the figures it would give stay unknown
    try:
        found = _TOTAL_PARAMS.search((info.path / "summary.txt").read_text(encoding="utf-8"))
        figures.parameters = int(found.group(1).replace(",", "")) if found else None
    except (OSError, UnicodeDecodeError):
        pass
    return figures


def _read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class Compared:
    """One column of a comparison: an experiment, or a group of them (one per seed)."""

    name: str
    runs: list[RunFigures]
    is_group: bool = False

    def values(self, figure: str) -> list[float]:
        return [v for v in (getattr(run, figure) for run in self.runs) if v is not None]

    def spread(self, figure: str) -> Spread | None:
        return spread(self.values(figure))

    def setting(self, key: str) -> str:
        """The value of a config key; for a group, each distinct value ("0-4" for seeds in a row)."""
        values = sorted({json.dumps(run.config.get(key)) for run in self.runs})
        decoded = [json.loads(v) for v in values]
        if len(decoded) == 1:
            return _setting_text(decoded[0])
        if all(isinstance(v, int) and not isinstance(v, bool) for v in decoded):
            numbers = sorted(decoded)
            if numbers == list(range(numbers[0], numbers[-1] + 1)):
                return f"{numbers[0]}-{numbers[-1]}"
            return ",".join(map(str, numbers))
        return ", ".join(_setting_text(v) for v in decoded)

    def curve(self, metric: str) -> tuple[list[int], list[float], list[float] | None, list[float] | None]:
        """(epochs, mean, low, high) of ``metric`` (an ``EpochRecord`` field) per epoch; low and high
        are the members' minimum and maximum for a group, None for one experiment."""
        by_epoch: dict[int, list[float]] = {}
        for run in self.runs:
            for record in run.history:
                by_epoch.setdefault(record.epoch, []).append(getattr(record, metric))
        epochs = sorted(by_epoch)
        mean = [sum(by_epoch[e]) / len(by_epoch[e]) for e in epochs]
        if not self.is_group:
            return epochs, mean, None, None
        return epochs, mean, [min(by_epoch[e]) for e in epochs], [max(by_epoch[e]) for e in epochs]


def _setting_text(value) -> str:
    return "-" if value is None else str(value)


def resolve(names: list[str], infos: list) -> list[Compared]:
    """The experiments and groups named (an experiment's name first, else a group's), with their
    figures read; ``ExperimentError`` for a name that is neither or for fewer than two."""
    by_name = {info.name: info for info in infos}
    _, groups = gather_groups(infos)
    compared = []
    for name in names:
        if name in by_name:
            compared.append(Compared(name, [read_figures(by_name[name])]))
        elif name in groups:
            compared.append(Compared(name, [read_figures(m) for m in groups[name].members], is_group=True))
        else:
            raise ExperimentError(f"no experiment or group named {name!r}")
    if len(compared) < 2:
        raise ExperimentError("compare needs two or more experiments or groups")
    return compared


# figure → (label, format); the figures of the side-by-side table, in order
FIGURES = {
    "accuracy": ("test accuracy", "percent"),
    "f1": ("global F1", "4f"),
    "macro_f1": ("macro F1", "4f"),
    "best_test_loss": ("best test loss", "4f"),
    "best_epoch": ("best epoch", "int"),
    "seconds": ("training time", "time"),
    "parameters": ("parameters", "int"),
}
# The figures a group's difference is tested on (the global, micro F1 of one label per image is the accuracy).
NOISE_FIGURES = ("accuracy", "best_test_loss")
METRICS = {"precision": "precision", "recall": "recall", "f1_score": "F1"}


def _format(value: float, kind: str) -> str:
    if kind == "percent":
        return f"{value:.2%}"
    if kind == "int":
        return f"{round(value):,}"
    if kind == "time":
        return f"{value:.0f} s" if value < 600 else f"{value / 60:.1f} min"
    return f"{value:.4f}"


def _spread_text(found: Spread | None, kind: str, is_group: bool) -> str:
    if found is None:
        return "-"
    text = _format(found.mean, kind)
    if is_group and not (kind == "int" and found.std == 0):  # all alike: a parameter count, say
        std = "-" if found.std is None else f"{found.std:.1f}" if kind == "int" else _format(found.std, kind)
        text += f" ± {std} (n={found.n})"
    return text


@dataclass
class Comparison:
    """The tables of a comparison as rows of text: the first cell names the row, then one per entry."""

    entries: list[Compared]

    @property
    def names(self) -> list[str]:
        return [entry.name + (f" (group of {len(entry.runs)})" if entry.is_group else "") for entry in self.entries]

    def differing_settings(self) -> list[list[str]]:
        """The config keys whose values differ among the entries."""
        keys = []
        for entry in self.entries:
            for run in entry.runs:
                keys += [k for k in run.config if k not in keys and k not in IGNORED_SETTINGS]
        rows = []
        for key in keys:
            values = [entry.setting(key) for entry in self.entries]
            if len(set(values)) > 1:
                rows.append([key, *values])
        return rows

    def figure_rows(self) -> list[list[str]]:
        return [
            [label, *(_spread_text(entry.spread(figure), kind, entry.is_group) for entry in self.entries)]
            for figure, (label, kind) in FIGURES.items()
        ]

    def per_class_rows(self) -> list[list[str]]:
        """Per digit and metric: each entry's value (a group's mean), and after the first its
        difference to the first ("0.9891 (+0.0020)")."""
        means = [self._per_class_means(entry) for entry in self.entries]
        digits = sorted({digit for found in means for digit in found})
        rows = []
        for digit in digits:
            for metric, label in METRICS.items():
                first = means[0].get(digit, {}).get(metric)
                cells = []
                for index, found in enumerate(means):
                    value = found.get(digit, {}).get(metric)
                    text = "-" if value is None else f"{value:.4f}"
                    if index and value is not None and first is not None:
                        text += f" ({value - first:+.4f})"
                    cells.append(text)
                rows.append([f"{digit} {label}", *cells])
        return rows

    @staticmethod
    def _per_class_means(entry: Compared) -> dict[int, dict[str, float]]:
        collected: dict[int, dict[str, list[float]]] = {}
        for run in entry.runs:
            for digit, scores in run.per_class.items():
                for metric, value in scores.items():
                    collected.setdefault(digit, {}).setdefault(metric, []).append(value)
        return {d: {m: sum(v) / len(v) for m, v in scores.items()} for d, scores in collected.items()}

    def noise_lines(self) -> list[str]:
        """For each entry after the first, when the comparison has a group: is its difference to the
        first larger than the seeds' spread, in each of ``NOISE_FIGURES``?"""
        if not any(entry.is_group for entry in self.entries):
            return []
        first = self.entries[0]
        lines = []
        for entry in self.entries[1:]:
            pairs = [(entry.values(figure), first.values(figure)) for figure in NOISE_FIGURES]
            if any(len(a) < 2 or len(b) < 2 for a, b in pairs):
                lines.append(f"{entry.name} vs {first.name}: {noise_statement([], [])}")
                continue
            for figure, (a, b) in zip(NOISE_FIGURES, pairs, strict=True):
                lines.append(f"{FIGURES[figure][0]}, {entry.name} vs {first.name}: {noise_statement(a, b)}")
        return lines


def compare(names: list[str], infos: list) -> Comparison:
    return Comparison(resolve(names, infos))
