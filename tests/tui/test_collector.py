"""The garbage collector's automatic passes are held while the first listing is shown, and on again
once it is on screen, whatever happens to the listing."""

from __future__ import annotations

import gc
import threading

from tui_helpers import make_app, make_four_experiments, wait_for

import savi_tui.tui.screens.experiments as experiments_screen
from savi_tui.core.collector import HeldCollections
from savi_tui.tui.screens.experiments import ExperimentsScreen


def test_held_collections_stop_the_automatic_passes_until_released():
    held = HeldCollections()
    held.hold()
    held.hold()
    assert not gc.isenabled()
    assert gc.collect() >= 0  # an explicit pass still runs
    held.release()
    assert gc.isenabled()
    held.release()
    assert gc.isenabled()


def test_garbage_is_settled_again_only_once_everything_is_thawed():
    from savi_tui.core.collector import settle_garbage_unless_settled, thaw

    try:
        settle_garbage_unless_settled()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        made_since = [[] for _ in range(5_000)]
        settle_garbage_unless_settled()  # frozen already (an earlier listing, a training): nothing more
        assert gc.get_freeze_count() <= frozen and made_since
    finally:
        thaw()
    assert gc.get_freeze_count() == 0


def test_releasing_leaves_the_passes_off_when_they_were_off_before():
    gc.disable()
    try:
        held = HeldCollections()
        held.hold()
        held.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_the_first_listing_is_shown_without_automatic_passes_which_come_back_then(tmp_path, monkeypatch):
    make_four_experiments(tmp_path / "e")
    during = []
    original = experiments_screen.list_experiments
    monkeypatch.setattr(
        experiments_screen, "list_experiments", lambda *a, **kw: (during.append(gc.isenabled()), original(*a, **kw))[1]
    )
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.pause()
        assert during == [False]
        assert gc.isenabled()


async def test_the_passes_come_back_when_the_first_listing_fails_or_the_app_ends_before_it(tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise OSError("the disk went away")

    monkeypatch.setattr(experiments_screen, "list_experiments", failing)
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen is not None and not isinstance(app.screen, ExperimentsScreen))
        assert gc.isenabled()  # the error modal is up, the collector is back

    unblock = threading.Event()
    monkeypatch.setattr(experiments_screen, "list_experiments", lambda *a, **kw: (unblock.wait(10), [])[1])
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert not gc.isenabled()  # still listing
    unblock.set()
    assert gc.isenabled()


async def test_what_the_app_holds_after_its_first_listing_is_frozen_until_it_ends(tmp_path, monkeypatch):
    """Later full passes walk only what came after the first listing; the app's end thaws it all,
    so that nothing it held stays out of the collector's reach."""
    import savi_tui.core.collector as collector

    freezes, freeze = [], collector.settle_garbage
    monkeypatch.setattr(collector, "settle_garbage", lambda **kw: (freezes.append(kw), freeze(**kw)))
    make_four_experiments(tmp_path / "e")
    assert gc.get_freeze_count() == 0
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded)
        await pilot.pause()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # Textual, the widgets, the listing
        app.screen.reload()  # a relisting freezes nothing more (and the first listing, freed, leaves)
        await pilot.pause(0.3)
        assert gc.get_freeze_count() <= frozen and freezes == [{"collect": False}]  # its passes were held
    assert gc.get_freeze_count() == 0
