"""One metric per epoch of several runs overlaid: a colour and a marker each (the marker tells them
apart where the terminal has few colours), a group as its mean with its members' range in thin lines."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual_plotext import PlotextPlot

from savi_tui.tui.widgets.loss_chart import tick_labels, y_axis

# ANSI colour numbers (the terminal's own palette: no truecolor needed) and ASCII markers.
COLORS = (6, 3, 2, 5, 4, 1, 14, 11, 10, 13, 12, 9)
MARKERS = "ox+*#@%&=~^$"
BAND_MARKER = "braille"  # thin: a group's spread stays behind its mean
METRICS = {"train_loss": "train loss", "test_loss": "test loss", "test_accuracy": "test accuracy"}


def style_of(index: int) -> tuple[int, str]:
    """(colour, marker) of the ``index``-th run; past 12 runs the markers repeat with other colours."""
    return COLORS[index % len(COLORS)], MARKERS[(index + index // len(MARKERS)) % len(MARKERS)]


def legend(names: list[str]) -> Text:
    """Each run's marker in its colour, then its name."""
    keys = []
    for index, name in enumerate(names):
        color, marker = style_of(index)
        keys.append(Text.assemble((marker * 2, Style(color=f"color({color})", bold=True)), f" {name}"))
    return Text("   ").join(keys)


class CompareChart(PlotextPlot):
    """Call ``show`` with ``Compared`` entries (core.compare) and a metric of ``METRICS``; ``prepare``
    draws the metrics ahead, so that showing one needs no drawing."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: list = []
        self.metric = "test_loss"
        self.drawn_metric: str | None = None  # the metric of the drawing rendered last
        self._drawings: dict[str, tuple[tuple, Text]] = {}  # metric → ((size, theme), its drawing)

    def show(self, entries: list, metric: str | None = None) -> None:
        entries = list(entries)
        if entries != self.entries:
            self.entries, self._drawings = entries, {}
        self.metric = metric or self.metric
        self.refresh()

    def prepare(self, size: Size) -> bool:
        """Draw the first metric not yet drawn at ``size``; False when every one is."""
        missing = [metric for metric in METRICS if self._drawings.get(metric, (None,))[0] != self._drawn_for(size)]
        if missing:
            self._drawing(missing[0], size)
        return bool(missing)

    def render(self):
        # Drawing 20 runs takes plotext most of 100 ms: a key, a tab switch or a refresh reuses it.
        self.drawn_metric = self.metric
        return self._drawing(self.metric, self.size)

    def _drawn_for(self, size: Size) -> tuple:
        return size, self._get_plotext_theme_name(self.app.theme)

    def _drawing(self, metric: str, size: Size) -> Text:
        drawn_for, drawing = self._drawings.get(metric, (None, None))
        if drawn_for != self._drawn_for(size):
            self._draw(metric, size.height)
            # what textual-plotext 1.0.1's PlotextPlot.render does at the widget's own size
            self.plt.plotsize(size.width, size.height)
            self.plt._set_size(size.width, size.height)
            self.plt.theme(self._get_plotext_theme_name(self.app.theme))
            drawing = Text.from_ansi(self.plt.build())
            self._drawings[metric] = (self._drawn_for(size), drawing)
        return drawing

    def _draw(self, metric: str, height: int) -> None:
        plt = self.plt
        plt.clear_data()
        plt.title(METRICS[metric] + " per epoch")
        plt.xlabel("epoch")
        curves = [entry.curve(metric) for entry in self.entries]
        values = [v for _, mean, low, high in curves for v in (*mean, *(low or ()), *(high or ()))]
        right = max([1, *(e for epochs, *_ in curves for e in epochs)])
        plt.xlim(0.5, right + 0.5)
        plt.xticks(list(range(1, right + 1, max(1, -(-right // 8)))))
        if not values:
            plt.ylim(0, 1)
            return
        low_value, high_value, ticks = y_axis(min(values), max(values), max(height - 5, 2))
        plt.ylim(low_value, high_value)
        plt.yticks(ticks, tick_labels(ticks))
        for index, (epochs, mean, low, high) in enumerate(curves):
            color, marker = style_of(index)
            if low is not None:
                plt.plot(epochs, low, marker=BAND_MARKER, color=color)
                plt.plot(epochs, high, marker=BAND_MARKER, color=color)
            plt.plot(epochs, mean, marker=marker, color=color)
