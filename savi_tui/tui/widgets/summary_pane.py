"""The torchinfo summary of a model: its text where that fits, else its rows as a compact table."""

from __future__ import annotations

from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Static

from savi_tui.core.models import ModelSummary

GAP = 2  # spaces between the columns of the one-line table


def _params(count: int) -> str:
    return f"{count:,}" if count else "--"  # torchinfo's notation


def _spread(left: str, right: str, width: int) -> str:
    return f"{left}{right:>{width - len(left)}}"


def compact_table(summary: ModelSummary, width: int) -> str:
    """Each layer's output shape and parameters: on one line where ``width`` allows, else the shape under it.

    The model's own row is left out: the screen names the model, and its output is its last layer's.
    """
    layers = [row for row in summary.rows if row.depth > 0]
    names = [" " * (row.depth - 1) + row.layer for row in layers]
    shapes = [str(list(row.output_shape)) for row in layers]
    params = [_params(row.params) for row in layers]
    totals = [("Total params", summary.total_params), ("Trainable", summary.trainable_params)]
    totals = [(label, _params(count)) for label, count in totals if count is not None]
    name_w = max(map(len, ["Layer", *names]))
    shape_w = max(map(len, ["Output shape", *shapes]))
    params_w = max(map(len, ["Params", *params, *(count for _, count in totals)]))
    if name_w + GAP + shape_w + GAP + params_w <= width:
        table_w = name_w + GAP + shape_w + GAP + params_w
        head = [_spread(f"{'Layer':<{name_w + GAP}}Output shape", "Params", table_w)]
        body = [_spread(f"{n:<{name_w + GAP}}{s}", p, table_w) for n, s, p in zip(names, shapes, params, strict=True)]
    else:
        under = [" " * (len(n) - len(n.lstrip()) + 2) + s for n, s in zip(names, shapes, strict=True)]
        table_w = max(len("Total params") + 1 + params_w, name_w + 1 + params_w, *map(len, under))
        head = [_spread("Layer", "Params", table_w), "  Output shape"]
        body = [line for n, s, p in zip(names, under, params, strict=True) for line in (_spread(n, p, table_w), s)]
    rule = "─" * table_w
    return "\n".join([*head, rule, *body, rule, *(_spread(label, count, table_w) for label, count in totals)])


class SummaryPane(ScrollableContainer, can_focus=True):
    """Scrollable both ways, for a summary wider or longer than the pane."""

    DEFAULT_CSS = """
    SummaryPane > Static { width: auto; }
    """

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._summary = ModelSummary(text)
        self._drawn: str | None = None

    def compose(self):
        yield Static(id="summary-text")

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def set_text(self, text: str) -> None:
        """A plain message (or a summary known only as text): shown as it is."""
        self.set_summary(ModelSummary(text))

    def set_summary(self, summary: ModelSummary) -> None:
        self._summary = summary
        if self.is_mounted:
            self._draw()
            self.scroll_home(animate=False)

    def _draw(self) -> None:
        # room for a vertical scrollbar is always kept, so showing one never switches the form
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        text = self._summary.text
        if self._summary.rows and max(map(len, text.splitlines()), default=0) > width:
            text = compact_table(self._summary, width)
        if text != self._drawn:
            self._drawn = text
            self.query_one("#summary-text", Static).update(Text(text, no_wrap=True))

    @property
    def text(self) -> str:
        """The summary's full text, whichever form is drawn."""
        return self._summary.text

    @property
    def drawn(self) -> str:
        """What the pane shows: the text, or the compact table where the text is too wide."""
        return self._drawn or ""
