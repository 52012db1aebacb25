"""The experiments list: rows, filter, sort, detail pane, delete with its confirmation, guide."""

from __future__ import annotations

import dataclasses
import hashlib
import threading

from textual.widgets import DataTable, Input, Static
from tui_helpers import make_app, make_experiment, make_four_experiments, wait_for

from savi_tui.core.progress import read_progress, write_progress
from savi_tui.tui.screens.confirm import ConfirmScreen
from savi_tui.tui.screens.error import ErrorScreen
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.help import HelpScreen
from savi_tui.tui.screens.training import TrainingScreen
from savi_tui.tui.widgets.loss_chart import LossChart


def table_names(app) -> list[str]:
    table = app.screen.query_one("#experiments", DataTable)
    return [key.value for key in table.rows]


async def loaded(pilot) -> None:
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, ExperimentsScreen) and pilot.app.screen.loaded,
        what="the experiments to load",
    )
    await pilot.pause()


async def test_an_empty_root_shows_a_guide_to_the_first_run_not_a_table(tmp_path):
    app = make_app(tmp_path / "experiments")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        guide = app.screen.query_one("#empty-guide", Static)
        assert guide.display and not app.screen.query_one("#experiments").display
        assert "Press n" in str(guide.render()) or "Press" in str(guide.content)
        assert "d" not in app.screen.active_bindings or not app.screen.check_action("delete", ())


async def test_the_table_lists_every_experiment_with_its_state_and_best_epoch(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        table = app.screen.query_one("#experiments", DataTable)
        assert sorted(table_names(app)) == ["broken-run", "mnist-better-cnn", "mnist-convnet", "mnist-fc-baseline"]
        row = dict(zip([c.value for c in table.columns], table.get_row("mnist-fc-baseline"), strict=True))
        assert (str(row["epochs"]), str(row["best"]), str(row["state"])) == ("10/10", "8", "complete")
        assert str(table.get_row("mnist-convnet")[1]) == "interrupted"
        assert str(table.get_row("broken-run")[1]) == "corrupt"
        assert table_names(app)[0] == "mnist-better-cnn"  # newest first


async def test_a_damaged_checkpoint_turns_its_row_corrupt_once_the_checksums_are_verified(tmp_path):
    make_four_experiments(tmp_path / "e")
    folder = tmp_path / "e" / "mnist-convnet"
    (folder / "status.pkl").write_bytes(b"what the disk holds now")
    (folder / "status.pkl.sha256").write_text(hashlib.sha256(b"what was saved").hexdigest() + "\n")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)  # shown at once, verified after
        table = app.screen.query_one("#experiments", DataTable)
        await wait_for(pilot, lambda: str(table.get_row("mnist-convnet")[1]) == "corrupt", what="the verdict")
        (info,) = [info for info in app.screen.infos if info.name == "mnist-convnet"]
        assert "checksum mismatch" in info.problem and str(folder / "status.pkl") in info.problem
        assert str(table.get_row("mnist-fc-baseline")[1]) == "complete"


async def test_the_verdict_holds_when_a_newer_listing_overtakes_the_check(tmp_path, monkeypatch):
    import savi_tui.tui.screens.experiments as screen_module

    make_four_experiments(tmp_path / "e")
    folder = tmp_path / "e" / "mnist-convnet"
    (folder / "status.pkl").write_bytes(b"what the disk holds now")
    (folder / "status.pkl.sha256").write_text(hashlib.sha256(b"what was saved").hexdigest() + "\n")
    first_check, checks, original = threading.Event(), [], screen_module.verify_all

    def slow_first(root, infos, signature, *, hash_unknown=True):
        if hash_unknown:  # the check that hashes, after the list is shown
            checks.append(infos)
            if len(checks) == 1:
                first_check.wait(10)  # still hashing when the next listing comes
        return original(root, infos, signature, hash_unknown=hash_unknown)

    monkeypatch.setattr(screen_module, "verify_all", slow_first)
    monkeypatch.setattr("savi_tui.tui.screens.experiments.REFRESH_SECONDS", 0.2)
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        progress = tmp_path / "e" / "mnist-fc-baseline" / "progress.json"
        progress.write_text(progress.read_text())  # another folder changes: mnist-convnet is taken over unread
        await wait_for(pilot, lambda: len(checks) >= 2, what="the newer listing's check")
        table = app.screen.query_one("#experiments", DataTable)

        def corrupt() -> bool:
            return str(table.get_row("mnist-convnet")[1]) == "corrupt"

        await wait_for(pilot, corrupt, timeout=5, what="the verdict, before the first check ends")
        first_check.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(table.get_row("mnist-convnet")[1]) == "corrupt"


async def test_typing_filters_and_bound_letters_still_act(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("c", "o", "n", "v")  # 'c' is not a command: it starts the filter; the rest is typed
        assert app.screen.query_one("#filter", Input).value == "conv"
        assert table_names(app) == ["mnist-convnet"]
        await pilot.press("escape")  # clears the filter, back to the table
        assert len(table_names(app)) == 4 and app.focused.id == "experiments"
        await pilot.press("slash", "c", "n", "n", "enter")
        assert table_names(app) == ["mnist-better-cnn"]


async def test_sort_cycles_columns_and_reverses(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = app.screen
        await pilot.press("o")  # modified → name, ascending
        assert screen.table.sort_column == "name"
        assert table_names(app) == ["broken-run", "mnist-better-cnn", "mnist-convnet", "mnist-fc-baseline"]
        await pilot.press("O")
        assert table_names(app) == ["mnist-fc-baseline", "mnist-convnet", "mnist-better-cnn", "broken-run"]
        assert "▼" in str(screen.query_one("#experiments", DataTable).columns["name"].label)


async def test_the_detail_pane_follows_the_highlighted_row(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("o")  # by name: broken-run, mnist-better-cnn, mnist-convnet, mnist-fc-baseline
        await pilot.press("down", "down", "down")
        chart = app.screen.query_one("#detail-chart", LossChart)
        assert len(chart.history) == 10 and chart.best_epoch == 8
        assert "best epoch 8" in str(app.screen.query_one("#detail-metrics", Static).content)
        await pilot.press("up")
        assert len(chart.history) == 3 and chart.best_epoch == 3
        assert "r resumes in epoch 4 at batch 40 of 938" in str(app.screen.query_one("#detail-metrics", Static).content)


async def test_delete_asks_first_and_cancel_keeps_the_folder(tmp_path):
    root = tmp_path / "e"
    make_experiment(root, "keep-me", epochs_done=1, epochs_planned=2)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused.id == "no"  # Enter on the default answer keeps it
        await pilot.press("enter")
        assert isinstance(app.screen, ExperimentsScreen)
        await pilot.press("d", "n")
        await pilot.press("d", "escape")
        await pilot.pause(0.2)
        assert (root / "keep-me").is_dir() and table_names(app) == ["keep-me"]


async def test_delete_with_confirmation_removes_the_experiment(tmp_path):
    root = tmp_path / "e"
    make_experiment(root, "old-run", epochs_done=1, epochs_planned=2)
    make_experiment(root, "other", epochs_done=1, epochs_planned=2, minutes=5)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("down")  # other (newest) → old-run
        await pilot.press("d")
        assert "old-run" in str(app.screen.query_one(".dialog-body", Static).content)
        await pilot.press("y")
        await wait_for(pilot, lambda: table_names(app) == ["other"], what="the row to go")
        assert not (root / "old-run").exists() and (root / "other").is_dir()


async def test_resuming_a_corrupt_or_complete_experiment_explains_instead_of_training(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("o", "up", "up", "up")  # by name: broken-run first
        await pilot.press("r")
        assert isinstance(app.screen, ErrorScreen)
        assert "corrupt" in app.screen.message
        await pilot.press("escape", "down", "r")  # mnist-better-cnn is complete
        assert isinstance(app.screen, ExperimentsScreen) and app.training.active_run is None
        assert any("complete" in n.message for n in app._notifications)


async def test_enter_opens_an_experiment_with_its_history(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("enter")  # mnist-better-cnn, newest
        assert isinstance(app.screen, TrainingScreen)
        chart = app.screen.query_one(LossChart)
        assert [r.epoch for r in chart.history] == [1, 2, 3, 4, 5] and chart.best_epoch == 5
        assert app.screen.query_one("#epochs", DataTable).row_count == 5
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)


async def test_help_lists_the_keys_of_the_current_screen(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = dict((description, key) for key, description in app.screen.keys)
        for description in ("New", "Resume", "Delete", "Export ONNX", "Summary", "Filter", "Sort", "Quit"):
            assert description in described
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)


async def test_the_list_follows_the_disk_without_relisting_an_unchanged_root(tmp_path, monkeypatch):
    import savi_tui.tui.screens.experiments as screen_module

    listings = []
    original = screen_module.list_experiments
    monkeypatch.setattr(screen_module, "list_experiments", lambda *a, **kw: listings.append(1) or original(*a, **kw))
    monkeypatch.setattr("savi_tui.tui.screens.experiments.REFRESH_SECONDS", 0.2)
    root = tmp_path / "e"
    make_experiment(root, "first", epochs_done=1, epochs_planned=2)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await app.workers.wait_for_complete()
        before = len(listings)
        await pilot.pause(1.0)  # several refresh ticks, nothing changed on disk
        assert len(listings) == before
        make_experiment(root, "made-by-another-process", epochs_done=0, epochs_planned=2, minutes=9)
        await wait_for(pilot, lambda: "made-by-another-process" in table_names(app), timeout=5, what="the new row")
        assert len(listings) == before + 1


async def test_a_change_on_disk_rereads_only_the_folder_that_changed(tmp_path, monkeypatch):
    import savi_tui.core.experiments as core_experiments

    read = []
    original = core_experiments.read_experiment_info
    monkeypatch.setattr(
        core_experiments, "read_experiment_info", lambda p, **kw: read.append(p.name) or original(p, **kw)
    )
    monkeypatch.setattr("savi_tui.tui.screens.experiments.REFRESH_SECONDS", 0.2)
    root = tmp_path / "e"
    make_four_experiments(root)
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await app.workers.wait_for_complete()
        assert sorted(read) == ["broken-run", "mnist-better-cnn", "mnist-convnet", "mnist-fc-baseline"]
        read.clear()
        progress_path = root / "mnist-convnet" / "progress.json"  # a training writes its next epoch
        progress = read_progress(progress_path)
        epoch_4 = dataclasses.replace(progress.history[-1], epoch=4)
        write_progress(progress_path, dataclasses.replace(progress, history=(*progress.history, epoch_4)))
        table = app.screen.query_one("#experiments", DataTable)
        cells_before = table.get_row("mnist-fc-baseline")

        def epochs() -> str:
            return str(
                dict(zip([c.value for c in table.columns], table.get_row("mnist-convnet"), strict=True))["epochs"]
            )

        await wait_for(pilot, lambda: epochs() == "4/10", timeout=5, what="epoch 4 in the row")
        assert read == ["mnist-convnet"]
        assert str(table.get_row("mnist-fc-baseline")[1]) == "complete"  # the others as they were...
        assert all(a is b for a, b in zip(table.get_row("mnist-fc-baseline"), cells_before, strict=True))  # not redrawn


async def test_ctrl_c_with_no_training_quits(tmp_path):
    make_four_experiments(tmp_path / "e")
    app = make_app(tmp_path / "e")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app to exit")
    assert app.return_code == 0


async def test_a_run_trained_on_another_machine_can_only_be_watched(tmp_path):
    from savi_tui.core.experiments import Experiment
    from savi_tui.core.lock import LockHolder

    root = tmp_path / "e"
    path = make_experiment(root, "elsewhere", epochs_done=1, epochs_planned=5)
    lock = Experiment(path).lock()
    with lock:  # held as a `savi-tui train` on another host of a shared home would hold it
        lock.path.write_text(LockHolder(4242, "gpu-node-7", "x:1", "2026-03-14T12:00:00+00:00").to_json())
        app = make_app(root)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            state = str(app.screen.query_one("#experiments", DataTable).get_row("elsewhere")[1])
            assert state.startswith("running pid 4242")
            await pilot.press("enter")
            assert isinstance(app.screen, TrainingScreen)
            await pilot.pause()
            status = str(app.screen.query_one("#run-status", Static).render())
            assert "pid 4242 host gpu-node-7, another machine" in status and "Ctrl+C" not in status
            assert app.screen.active_bindings["ctrl+c"].binding.action == "quit_idle"  # no "Stop & save"
            assert not app.screen.check_action("resume", ())
