"""A 10x10 confusion-matrix heatmap: rows true, columns predicted, the count in every cell.

The shading uses the 16 ANSI colours only (green diagonal, three levels of red for the
errors), so it reads on a terminal without truecolor; the counts say the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

CELL = 5  # "1135" and a space
LABEL = 4  # " 7 │"
DIAGONAL = "bold black on green"
ERROR_LEVELS = ("red", "bold white on red", "bold white on bright_red")  # few, some, most of the errors
ZERO = "bright_black"


def cell_style(count: int, diagonal: bool, largest_error: int) -> str:
    """The shading of one cell: by kind, and for an error by its count against the largest error."""
    if diagonal:
        return DIAGONAL
    if count == 0:
        return ZERO
    level = min(len(ERROR_LEVELS) - 1, (len(ERROR_LEVELS) * count - 1) // max(largest_error, 1))
    return ERROR_LEVELS[level]


class ConfusionMatrix(Widget, can_focus=True):
    """Arrow keys move over the cells; Enter posts ``CellSelected`` for the cell under the cursor."""

    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("enter", "select", "Images of the cell", tooltip="The test images of this cell", id="matrix.select"),
    ]

    cursor: reactive[tuple[int, int]] = reactive((0, 0))

    @dataclass
    class CellSelected(Message):
        """Enter on a cell: ``count`` test images of ``true`` were predicted as ``predicted``."""

        true: int
        predicted: int
        count: int

    def __init__(self, confusion: list[list[int]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.confusion = confusion
        self.largest_error = max(
            (c for t, row in enumerate(confusion) for p, c in enumerate(row) if t != p),
            default=0,
        )

    @property
    def size_classes(self) -> int:
        return len(self.confusion)

    def get_content_width(self, container, viewport) -> int:
        return LABEL + CELL * self.size_classes

    def get_content_height(self, container, viewport, width) -> int:
        return self.size_classes + 1

    def count(self, true: int, predicted: int) -> int:
        return self.confusion[true][predicted]

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        text.append("t╲p ", style="bold")
        for predicted in range(self.size_classes):
            text.append(f"{predicted:>{CELL - 1}} ", style="bold")
        for true, row in enumerate(self.confusion):
            text.append(f"\n{true:>2} │", style="bold")
            for predicted, count in enumerate(row):
                style = cell_style(count, true == predicted, self.largest_error)
                if (true, predicted) == self.cursor:
                    style += " reverse" if self.has_focus else " underline"
                shown = str(count) if count or true == predicted else "·"
                text.append(f"{shown:>{CELL - 1}} ", style=style)
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event) -> None:
        """A click moves the cursor to the cell; a click on the cell under the cursor opens it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.x < LABEL:
            return
        true, predicted = offset.y - 1, (offset.x - LABEL) // CELL
        if 0 <= true < self.size_classes and predicted < self.size_classes:
            if (true, predicted) == self.cursor:
                self.action_select()
            self.cursor = (true, predicted)

    def action_move(self, rows: int, columns: int) -> None:
        true, predicted = self.cursor
        last = self.size_classes - 1
        self.cursor = (min(max(true + rows, 0), last), min(max(predicted + columns, 0), last))

    def action_select(self) -> None:
        true, predicted = self.cursor
        self.post_message(self.CellSelected(true, predicted, self.count(true, predicted)))
