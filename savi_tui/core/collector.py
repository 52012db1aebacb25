"""Keeping the garbage collector's full passes off the moments a user waits for.

A full pass walks every object the process holds, well over a hundred thousand once torch is
imported or a thousand experiments are listed, and keeps the GIL meanwhile: 45-75 ms on a small
machine for the app's list, and more. A burst of allocations (a listing, a comparison) makes one
fall due at the next allocations, whichever key that is: held during the first listing; after a
comparison is prepared, it runs at once, while the user reads the figures.

And most of what is alive at a settled moment stays alive: the app once its list is on screen
(Textual, the widgets, the listing), a training once it is set up (torch, the data, the model).
``settle_garbage`` collects, then freezes all of it out of later passes (``gc.freeze``), which
then walk only what came after: 2-6 ms for the app's. What of it dies in a reference cycle
meanwhile is collected once ``thaw`` hands it back: a training thaws as it starts and as it ends,
the app when it closes, and the app's list settles again once it is shown with nothing frozen.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


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


def settle_garbage(*, collect: bool = True) -> None:
    """Collect (garbage is not frozen with the rest: a failed run's tensors), then take every object
    alive now out of the collector's sight until ``thaw``. ``collect=False`` where that pass would
    cost more than the garbage frozen without it: the app's first listing, whose passes were held,
    leaves about 5,000 objects, and collecting them took 57 ms of the list's first moments."""
    if collect:
        gc.collect()
    gc.freeze()


def settle_garbage_unless_settled(*, collect: bool = True) -> None:
    """``settle_garbage``, unless objects are frozen already (by an earlier call, or a training
    under way in this process)."""
    if gc.get_freeze_count() == 0:
        settle_garbage(collect=collect)


def thaw() -> None:
    """Every frozen object is the collector's again."""
    gc.unfreeze()


@contextmanager
def garbage_settled_while_training():
    """A training starts and ends with nothing frozen: what an earlier freeze kept that is garbage
    now (the previous run in the app, whose model and optimizer the list's freeze caught) is
    collected by the run's first ``settle_garbage``, not held through the run."""
    thaw()
    try:
        yield
    finally:
        thaw()


def collect_ahead() -> None:
    """The full pass that the allocations just made falls due, now rather than at the next key."""
    gc.collect()
