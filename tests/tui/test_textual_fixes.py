"""The behaviours of Textual that savi_tui.tui.textual_fixes works around are still there.

When one of these fails after a Textual upgrade, Textual fixed it: remove that workaround
(and its test here); the leak and repaint tests in test_responsiveness keep guarding the app.
"""

from __future__ import annotations

import gc

import textual
from textual._styles_cache import StylesCache
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, ProgressBar
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
