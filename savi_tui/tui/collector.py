"""Keeping the garbage collector's full passes off the moments a user waits for.

A full pass walks every object the app holds, well over a hundred thousand once a thousand
experiments are listed, and keeps the GIL meanwhile: 45-75 ms on a small machine, and more. A
burst of allocations (a listing, a comparison) makes one fall due at the next allocations,
whichever key that is: held during the first listing; after a comparison is prepared, it runs at
once, while the user reads the figures. And what the app holds once its first listing is on
screen (Textual, the screen's widgets, the listing) mostly lives as long as the app: frozen out of
the passes then (``gc.freeze``), each later pass walks only what came after, 2-6 ms. What of it
dies in a reference cycle meanwhile is collected only once ``thaw`` hands it back, at the end.
"""

from __future__ import annotations

import gc


class HeldCollections:
    """``hold`` stops the automatic passes until ``release``; both may be called any number of times.
    An explicit ``gc.collect()`` still collects meanwhile."""

    def __init__(self) -> None:
        self._was_enabled: bool | None = None  # while held: whether the passes were on before

    @property
    def held(self) -> bool:
        return self._was_enabled is not None

    def hold(self) -> None:
        if not self.held:
            self._was_enabled = gc.isenabled()
            gc.disable()

    def release(self) -> None:
        if self.held:
            if self._was_enabled:
                gc.enable()
            self._was_enabled = None


def freeze_survivors() -> None:
    """Every object tracked now is left out of all later passes, until ``thaw``."""
    gc.freeze()


def thaw() -> None:
    gc.unfreeze()


def collect_ahead() -> None:
    """The full pass that the allocations just made falls due, now rather than at the next key."""
    gc.collect()
