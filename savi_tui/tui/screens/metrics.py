"""An experiment's best checkpoint as numbers: the confusion matrix, its largest confusions, and
precision, recall, F1 and support per class. Enter on a cell opens that cell's images.

Everything comes from statistics.json and predictions.bin, read here without torch (both are
small: the screen opens in a few milliseconds).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from savi_tui.core.errors import SaviError
from savi_tui.core.experiments import Experiment
from savi_tui.core.metrics import largest_confusions, support
from savi_tui.core.predictions import Predictions, PredictionsError, predictions_path, read_predictions
from savi_tui.tui.screens.gallery import GalleryScreen, TerminalImage
from savi_tui.tui.textual_fixes import Footer
from savi_tui.tui.widgets.confusion_matrix import ConfusionMatrix

CONFUSIONS_SHOWN = 10
HINT = "rows true, columns predicted · ↑↓←→ a cell · Enter its images · g all wrong"


class MetricsScreen(Screen):
    TITLE = "Metrics"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back", id="metrics.back"),
        Binding(
            "g", "gallery", "Wrong images", tooltip="Every test image the best checkpoint gets wrong", id="metrics.all"
        ),
    ]

    def __init__(self, experiment_path: str | Path, *, image_class: type = TerminalImage) -> None:
        super().__init__()
        self.experiment = Experiment(experiment_path)
        self.image_class = image_class
        self.statistics: dict | None = None
        self.problem: str | None = None
        try:
            self.statistics = self.experiment.read_statistics()
        except SaviError as error:
            self.problem = str(error)
        self.predictions, self.predictions_problem = self._read_predictions()

    def _read_predictions(self) -> tuple[Predictions | None, str | None]:
        if self.statistics is None:
            return None, None
        try:
            predictions = read_predictions(predictions_path(self.experiment.path))
        except PredictionsError as error:
            return None, f"No gallery: {error}"
        if predictions.epoch != self.statistics.get("epoch") or predictions.confusion() != self.confusion:
            epochs = f"epoch {predictions.epoch}, statistics.json of epoch {self.statistics.get('epoch')}"
            return None, f"No gallery: predictions.bin does not match statistics.json ({epochs})"
        return predictions, None

    @property
    def confusion(self) -> list[list[int]]:
        return (self.statistics or {}).get("confusion_matrix") or []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title(), id="metrics-title", markup=False)
        if self.statistics is None or not self.confusion:
            reason = self.problem or "No metrics yet: statistics.json is written when a first epoch ends."
            yield Static(reason, id="metrics-problem", markup=False)
        else:
            with Horizontal(id="metrics-top"):
                yield ConfusionMatrix(self.confusion, id="matrix")
                yield Static(self._confusions_text(), id="confusions")
            hint = self.predictions_problem or HINT
            yield Static(hint, id="metrics-hint", markup=False)
            yield DataTable(id="per-class", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.experiment.name
        if self.statistics is None or not self.confusion:
            return
        matrix = self.query_one(ConfusionMatrix)
        largest = largest_confusions(self.confusion, limit=1)
        if largest:
            matrix.cursor = (largest[0].true, largest[0].predicted)
        matrix.focus()
        self._fill_table()

    def _title(self) -> str:
        statistics = self.statistics
        if not statistics:
            return self.experiment.name
        return (
            f"{self.experiment.name} · best checkpoint (epoch {statistics.get('epoch')}) · "
            f"accuracy {statistics['accuracy']:.2%}"
        )

    def _confusions_text(self) -> Text:
        text = Text("Largest confusions", style="bold")
        cells = largest_confusions(self.confusion, limit=CONFUSIONS_SHOWN)
        for cell in cells:
            text.append(f"\n{cell.describe()} ")
            text.append(f"({cell.share:.1%})", style="dim")
        if not cells:
            text.append("\nnone: every test image is right")
        return text

    def _fill_table(self) -> None:
        table = self.query_one("#per-class", DataTable)
        for label in ("class", "precision", "recall", "F1", "support", "TP", "FP", "FN"):
            table.add_column(label, key=label)
        statistics, counts = self.statistics, support(self.confusion)
        for scores, count in zip(statistics["per_class"], counts, strict=True):
            table.add_row(str(scores["digit"]), *_scores(scores), str(count), *_counts(scores))
        total = sum(counts)
        table.add_row(
            Text("global", style="bold"), *_scores(statistics["global"]), str(total), *_counts(statistics["global"])
        )
        table.add_row(Text("macro", style="bold"), *_scores(statistics["macro"]), str(total), "", "", "")

    @on(ConfusionMatrix.CellSelected)
    def _cell_selected(self, message: ConfusionMatrix.CellSelected) -> None:
        self._open_gallery(message.true, message.predicted)

    def action_gallery(self) -> None:
        self._open_gallery(None, None)

    def _open_gallery(self, true: int | None, predicted: int | None) -> None:
        if self.predictions is None:
            self.notify(self.predictions_problem or "No metrics yet.", severity="warning")
            return
        gallery = GalleryScreen(self.experiment.name, self.predictions, true, predicted, image_class=self.image_class)
        self.app.push_screen(gallery)

    def action_back(self) -> None:
        self.app.pop_screen()


def _scores(scores: dict) -> tuple[str, str, str]:
    return f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{scores['f1_score']:.4f}"


def _counts(scores: dict) -> tuple[str, str, str]:
    return str(scores["TP"]), str(scores["FP"]), str(scores["FN"])
