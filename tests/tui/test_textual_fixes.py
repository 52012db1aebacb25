"""The behaviours of Textual that savi_tui.tui.textual_fixes works around are still there.

When one of these fails after a Textual upgrade, Textual fixed it: remove that workaround
(and its test here); the leak and repaint tests in test_responsiveness keep guarding the app.
"""

from __future__ import annotations

import gc

import textual
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, ProgressBar
from textual.widgets._footer import FooterKey

from savi_tui.tui import textual_fixes


class Modal(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def compose(self):
        yield Label("modal")


class FooterApp(App):
    BINDINGS = [Binding("m", "modal", "Modal")]

    def __init__(self, footer_class) -> None:
        super().__init__()
        self.footer_class = footer_class

    def compose(self):
        yield self.footer_class()

    def action_modal(self) -> None:
        self.push_screen(Modal())


def footer_keys() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is FooterKey)


async def footer_keys_alive_after(footer_class, openings: int) -> int:
    """How many more footer keys are alive after ``openings`` of a modal than before the app ran."""
    before = footer_keys()
    app = FooterApp(footer_class)
    async with app.run_test(size=(60, 10)) as pilot:
        for _ in range(openings):
            await pilot.press("m")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        await pilot.pause(0.1)
        return footer_keys() - before


def test_the_fixes_name_the_textual_version_they_were_made_for():
    assert f"Textual {textual.__version__}" in textual_fixes.__doc__, "check each fix against this Textual"


async def test_textuals_footer_still_keeps_the_keys_of_its_rebuilds_alive():
    assert await footer_keys_alive_after(Footer, 12) > await footer_keys_alive_after(Footer, 2) + 5
    assert await footer_keys_alive_after(textual_fixes.Footer, 12) <= await footer_keys_alive_after(
        textual_fixes.Footer, 2
    )


async def test_textuals_progress_bar_still_calls_a_bare_update_from_its_timer():
    bare_updates = []

    class Recording(ProgressBar):
        def update(self, **changes) -> None:
            if not changes:
                bare_updates.append(1)
            super().update(**changes)

    class BarApp(App):
        def compose(self):
            yield Recording(total=100, show_eta=False)

    async with BarApp().run_test() as pilot:
        await pilot.pause(1.3)
    assert bare_updates, "Textual's ProgressBar no longer updates itself from a timer"


def test_textuals_styles_cache_still_memoizes_get_inner_outer_with_a_clearable_cache():
    assert callable(getattr(StylesCache.get_inner_outer, "cache_clear", None))
    textual_fixes.release_removed_widgets()
    assert StylesCache.get_inner_outer.cache_info().currsize == 0


class Recorded(Text):
    """A cell that counts how often a table measures and renders it."""

    measured: list[str] = []
    rendered: list[str] = []

    def __rich_measure__(self, console, options):
        Recorded.measured.append(self.plain)
        return super().__rich_measure__(console, options)

    def __rich_console__(self, console, options):
        Recorded.rendered.append(self.plain)
        yield from super().__rich_console__(console, options)


class TableApp(App):
    def __init__(self, table_class, columns: int, rows: int, width: int | None) -> None:
        super().__init__()
        self.table_class, self.columns, self.rows, self.width = table_class, columns, rows, width

    def compose(self):
        yield self.table_class()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in range(self.columns):
            table.add_column(f"c{column}", key=f"c{column}", width=self.width)
        table.add_rows([[Recorded(f"r{row}c{column}") for column in range(self.columns)] for row in range(self.rows)])


async def cells_measured_and_rendered(table_class, columns: int, rows: int, width: int | None, size=(40, 8)):
    """(measured, rendered) cells of a table shown at ``size``, and the text of its first row."""
    Recorded.measured.clear()
    Recorded.rendered.clear()
    app = TableApp(table_class, columns, rows, width)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        shown = table.render_line(1).text
        measured, rendered = list(Recorded.measured), set(Recorded.rendered)
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await pilot.pause()
        return measured, rendered, shown, table.render_line(1).text


async def test_textuals_data_table_still_measures_the_cells_of_columns_of_a_fixed_width():
    measured, *_ = await cells_measured_and_rendered(DataTable, 3, 50, width=6)
    assert len(measured) >= 150, "Textual's DataTable no longer measures fixed-width cells: drop _update_dimensions"
    measured, _, shown, _ = await cells_measured_and_rendered(textual_fixes.DataTable, 3, 50, width=6)
    assert measured == [] and shown.split() == ["r0c0", "r0c1", "r0c2"]


async def test_textuals_data_table_still_renders_the_columns_out_of_view():
    _, rendered, *_ = await cells_measured_and_rendered(DataTable, 20, 3, width=6)
    assert "r0c19" in rendered, "Textual's DataTable renders only the columns in view: drop _render_cell"
    _, rendered, shown, scrolled = await cells_measured_and_rendered(textual_fixes.DataTable, 20, 3, width=6)
    assert "r0c19" not in rendered and len(rendered) < 30  # the 5 columns in view of each of 3 rows, and a few
    assert shown.split() == ["r0c0", "r0c1", "r0c2", "r0c3", "r0c4"]
    assert scrolled.split()[-1] == "r0c19"  # scrolled to the right, the last columns are drawn


async def footer_rebuilds_for_unchanged_bindings(footer_class) -> int:
    composed = []

    class Counted(footer_class):
        def compose(self):
            composed.append(1)
            yield from super().compose()

    app = FooterApp(Counted)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        composed.clear()
        for _ in range(5):
            app.screen.refresh_bindings()
            await pilot.pause()
        return len(composed)


async def test_textuals_footer_still_rebuilds_its_keys_when_the_bindings_did_not_change():
    assert await footer_rebuilds_for_unchanged_bindings(Footer) >= 5, "drop textual_fixes.Footer's _shown_keys"
    assert await footer_rebuilds_for_unchanged_bindings(textual_fixes.Footer) == 0


async def test_the_footer_still_rebuilds_when_a_key_is_enabled_or_disabled():
    class Toggled(App):
        BINDINGS = [Binding("m", "modal", "Modal")]
        allowed: bool | None = True  # None: shown, disabled

        def compose(self):
            yield textual_fixes.Footer()

        def check_action(self, action, parameters):
            return self.allowed if action == "modal" else True

    def modal_key_disabled(app) -> bool:
        (key,) = [key for key in app.query(FooterKey) if key.action == "modal"]
        return key.has_class("-disabled")

    app = Toggled()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        assert not modal_key_disabled(app)
        app.allowed = None
        app.screen.refresh_bindings()
        await pilot.pause()
        assert modal_key_disabled(app)
