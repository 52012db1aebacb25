"""Workarounds for Textual 8.2.8's own behaviour, in one place.

Each one is checked by tests/tui/test_textual_fixes.py against Textual itself: when a new
Textual fixes the behaviour, that test fails and says which workaround to remove.
"""

from __future__ import annotations

from rich.segment import Segment
from textual._styles_cache import StylesCache
from textual.widgets import DataTable as TextualDataTable
from textual.widgets import Footer as TextualFooter
from textual.widgets import ProgressBar as TextualProgressBar


class Footer(TextualFooter):
    """Textual's Footer, without the keys each of its rebuilds left alive, nor rebuilds that change nothing.

    The footer rebuilds its keys whenever the bindings may have changed (every modal, every
    change of focus, every ``refresh_bindings``): one rebuild for each, even when several come
    before the next frame or the keys stay the same. Each key watches the footer's ``compact``
    through a data binding, and Textual drops the watchers of removed keys only when ``compact``
    changes, which it never does here; so old keys and their render caches piled up for the
    garbage collector to walk.
    """

    _composed_for: tuple | None = None  # what the keys were last built from

    def _shown_keys(self) -> tuple:
        """What ``compose`` builds the keys from."""
        if not self._bindings_ready:
            return ()
        bindings = tuple(
            (key, binding.key, self.app.get_key_display(binding), binding.action, binding.description)
            + (binding.group, binding.show, binding.tooltip, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return bindings, self.compact, self.show_command_palette

    async def recompose(self) -> None:
        if not self.is_attached or self._pruning:
            return
        shown = self._shown_keys()
        if shown == self._composed_for and self.children:
            return
        self._composed_for = shown
        await super().recompose()
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]


class DataTable(TextualDataTable):
    """Textual's DataTable, without two costs that grow with the table rather than with the screen.

    - On the first idle after rows are added, Textual measures every cell of every new row to
      widen auto-width columns, and does so in columns of a fixed width too, whose width never
      follows them: a long pause before the first frame of a table of a thousand rows.
    - Each line it draws renders every column, then crops the line to the columns in view: a
      table of 21 columns of which 5 fit drew 4 times the cells it showed.
    """

    def _update_dimensions(self, new_rows) -> None:
        if all(not column.auto_width for column in self.columns.values()):
            # a row of one line without a label (the default) needs no measuring, only the virtual size
            rows = [(key, self.rows.get(key)) for key in new_rows]
            new_rows = [key for key, row in rows if row is not None and (row.label is not None or row.auto_height)]
        super()._update_dimensions(new_rows)

    def _render_cell(self, row_index: int, column_index: int, base_style, width: int, *args, **kwargs):
        height = self._fixed_height(row_index)
        if height and column_index >= self.fixed_columns and not self._column_in_view(column_index):
            return [[Segment(" " * width, base_style)]] * height  # cropped away: not worth rendering
        return super()._render_cell(row_index, column_index, base_style, width, *args, **kwargs)

    def _fixed_height(self, row_index: int) -> int:
        """The row's height, or 0 while an auto-height row is not measured yet (its cells tell it)."""
        if row_index == -1:
            return self.header_height
        row = self.rows.get(self._row_locations.get_key(row_index))
        return 0 if row is None or row.auto_height else row.height

    def _column_in_view(self, column_index: int) -> bool:
        widths = [column.get_render_width(self) for column in self.ordered_columns[: column_index + 1]]
        left = sum(widths) - widths[-1]
        return left + widths[-1] > self.scroll_x and left < self.scroll_x + self.size.width

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        self._row_render_cache.clear()  # its lines hold blanks for the columns that were out of view
        super().watch_scroll_x(old_value, new_value)


class ProgressBar(TextualProgressBar):
    """Textual's ProgressBar, redrawn only when its progress or total changes.

    Textual's bar calls a bare ``update()`` once a second from a timer of its own to keep its
    ETA current, and repaints, even with ``show_eta=False``: each repaint holds the GIL the
    training thread needs. The screen shows its own ETAs, so that call does nothing here.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("show_eta", False)
        if kwargs["show_eta"]:
            raise ValueError("this ProgressBar shows no ETA of its own")
        super().__init__(*args, **kwargs)

    def update(self, **changes) -> None:
        if changes:  # a new total, progress or advance; the timer's call passes none
            super().update(**changes)


def release_removed_widgets(_screen=None) -> None:
    """Empty ``StylesCache.get_inner_outer``'s memo; subscribe it to the app's screen changes.

    Textual memoizes that method with an ``lru_cache(1024)`` keyed on the instance
    (Textualize/textual#6665), which keeps the render caches of up to 1,024 removed widgets
    alive. Its values depend on two colours only, so emptying it costs a few recomputes.
    """
    clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)  # a private API: only if it is there
    if clear is not None:
        clear()
