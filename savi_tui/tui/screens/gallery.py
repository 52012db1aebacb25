"""The test images the best checkpoint gets wrong (all of them, or one cell's), page by page.

Images are drawn by textual-image: Sixel or Kitty graphics where the terminal has them, else
Unicode half-blocks. It asks the terminal what it can do when imported, which only works
before Textual takes the terminal over: this module is imported with the app, never later.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static

from savi_tui.core.predictions import Prediction, Predictions
from savi_tui.tui.image_fixes import import_textual_image_widget
from savi_tui.tui.textual_fixes import Footer

TerminalImage = import_textual_image_widget().Image  # Sixel, Kitty graphics or half-blocks: what the terminal has

CARD_WIDTH, CARD_HEIGHT = 16, 9  # a 14x7-cell image (14x14 pixels in half-blocks), its caption, a margin
_IMAGE_SIDE = 28


def digit_image(pixels: bytes) -> PILImage.Image:
    """A 28x28 grey test image (row by row, 0 black … 255 white) as a PIL image."""
    return PILImage.frombytes("L", (_IMAGE_SIDE, _IMAGE_SIDE), pixels)


def caption(prediction: Prediction) -> str:
    """``4→9 87%``: true label, predicted label, the confidence of the prediction."""
    return f"{prediction.true}→{prediction.predicted} {prediction.confidence:.0%}"


def page_size(width: int, height: int) -> tuple[int, int]:
    """Columns and rows of cards that fit a screen of ``width`` x ``height`` cells."""
    return max(1, width // CARD_WIDTH), max(1, (height - 4) // CARD_HEIGHT)


class GalleryScreen(Screen):
    TITLE = "Wrong answers"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the metrics", id="gallery.back"),
        Binding("pagedown,right,space", "page(1)", "Next page", tooltip="The next page of images", id="gallery.next"),
        Binding("pageup,left", "page(-1)", "Previous page", tooltip="The previous page", id="gallery.previous"),
    ]

    def __init__(
        self,
        experiment: str,
        predictions: Predictions,
        true: int | None = None,
        predicted: int | None = None,
        *,
        image_class: type = TerminalImage,
    ) -> None:
        """``true``/``predicted`` keep one cell of the matrix; ``image_class`` is a textual-image widget."""
        super().__init__()
        self.experiment, self.predictions = experiment, predictions
        self.cell = (true, predicted)
        self.wrong = predictions.wrong(true, predicted)
        self.image_class = image_class
        self.page = 0
        self.columns, self.rows = 1, 1

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="gallery-title", markup=False)
        yield Grid(id="gallery-grid")
        yield Footer(compact=True)

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.wrong) // self.per_page))

    def on_mount(self) -> None:
        self._layout(self.app.size.width, self.app.size.height)

    def on_resize(self, event) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        columns, rows = page_size(width, height)
        if (columns, rows) == (self.columns, self.rows) and self.query_one("#gallery-grid").children:
            return
        first = self.page * self.per_page
        self.columns, self.rows = columns, rows
        self.page = min(first // self.per_page, self.pages - 1)
        grid = self.query_one("#gallery-grid", Grid)
        grid.styles.grid_size_columns = columns
        self._show_page()

    def _title(self) -> str:
        true, predicted = self.cell
        which = "wrong"
        if true is not None and predicted is not None:
            which = f"true {true}, predicted {predicted}"
        elif true is not None:
            which = f"true {true}, predicted otherwise"
        epoch = self.predictions.epoch
        count = len(self.wrong)
        head = f"{self.experiment}, best checkpoint (epoch {epoch}): {count} test image{'s' * (count != 1)} {which}"
        if true is not None and true == predicted:
            return f"{head}. The diagonal holds the right answers; the gallery keeps the wrong ones."
        if not self.wrong:
            return f"{head}. Nothing to show."
        return f"{head} · true→predicted confidence · page {self.page + 1}/{self.pages}"

    def _show_page(self) -> None:
        grid = self.query_one("#gallery-grid", Grid)
        grid.remove_children()
        start = self.page * self.per_page
        cards = [self._card(prediction) for prediction in self.wrong[start : start + self.per_page]]
        if cards:
            grid.mount_all(cards)
        self.query_one("#gallery-title", Static).update(self._title())

    def _card(self, prediction: Prediction) -> Vertical:
        image = self.image_class(digit_image(self.predictions.pixels(prediction)), classes="digit-image")
        return Vertical(image, Static(caption(prediction), classes="digit-caption"), classes="digit-card")

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self._show_page()

    def action_back(self) -> None:
        self.app.pop_screen()
