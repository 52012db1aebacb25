"""Textual's Footer, without the objects each of its rebuilds left behind."""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer, minus a leak (Textual 8.2).

    The footer rebuilds its keys whenever the bindings may have changed: every modal that
    opens or closes, every change of focus. Each new key watches the footer's ``compact``
    through a data binding, and Textual drops the watchers of removed keys only when
    ``compact`` changes, which it never does here. So every rebuild kept the old keys
    alive with their render caches: 50 openings of the help screen left 530 dead keys and
    141,000 more objects, and every full garbage collection had to walk them (hundreds of
    milliseconds, holding the GIL, in a long session). After each rebuild, the watchers of
    keys that are gone are dropped.
    """

    async def recompose(self) -> None:
        await super().recompose()
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
