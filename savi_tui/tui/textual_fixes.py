"""Workarounds for Textual 8.2.8's own behaviour, in one place.

Each one is checked by tests/tui/test_textual_fixes.py against Textual itself: when a new
Textual fixes the behaviour, that test fails and says which workaround to remove.
"""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.widgets import Footer as TextualFooter
from textual.widgets import ProgressBar as TextualProgressBar


class Footer(TextualFooter):
    """Textual's Footer, without the keys each of its rebuilds left alive.

    The footer rebuilds its keys whenever the bindings may have changed (every modal, every
    change of focus). Each key watches the footer's ``compact`` through a data binding, and
    Textual drops the watchers of removed keys only when ``compact`` changes, which it never
    does here; so old keys and their render caches piled up for the garbage collector to walk.
    """

    async def recompose(self) -> None:
        await super().recompose()
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]


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
