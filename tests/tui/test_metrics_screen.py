"""The metrics screen (confusion matrix, largest confusions, per-class table), the gallery of the
wrong images, the half-block drawing, and netron from the export modal."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from metrics_helpers import METRICS_NAME, digit_pixels, fixed_confusion, make_metrics_experiment
from rich.console import Console
from textual.widgets import DataTable, Static
from textual_image.renderable.halfcell import Image as HalfcellRenderable
from textual_image.widget import HalfcellImage
from tui_helpers import make_app, wait_for

from savi_tui.core.predictions import predictions_path
from savi_tui.tui.screens.experiments import ExperimentsScreen
from savi_tui.tui.screens.export import ExportScreen
from savi_tui.tui.screens.gallery import GalleryScreen, digit_image, page_size
from savi_tui.tui.screens.metrics import MetricsScreen
from savi_tui.tui.widgets.confusion_matrix import ConfusionMatrix


async def _listed(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ExperimentsScreen) and app.screen.loaded, what="the list")


def _matrix_cells(matrix: ConfusionMatrix) -> list[list[int]]:
    """The counts as drawn: the rendered text of rows 1-10, "·" read as 0."""
    lines = matrix.render().plain.splitlines()[1:]
    return [[0 if cell == "·" else int(cell) for cell in line.split("│")[1].split()] for line in lines]


async def test_m_opens_the_metrics_screen_whose_matrix_is_statistics_json_s(tmp_path):
    path = make_metrics_experiment(tmp_path)
    statistics = json.loads((path / "statistics.json").read_text())
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen), what="the metrics screen")
        matrix = app.screen.query_one(ConfusionMatrix)
        assert _matrix_cells(matrix) == statistics["confusion_matrix"]
        assert matrix.cursor == (4, 9), "the cursor starts on the largest confusion"
        confusions = str(app.screen.query_one("#confusions", Static).content).splitlines()
        assert confusions[1:4] == ["4 → 9: 12 (1.2%)", "2 → 7: 9 (0.9%)", "9 → 4: 7 (0.7%)"]
        table = app.screen.query_one("#per-class", DataTable)
        four = [str(cell) for cell in table.get_row_at(4)]
        assert four[0] == "4" and four[4] == str(sum(statistics["confusion_matrix"][4]))  # support
        assert four[1:4] == [f"{statistics['per_class'][4][k]:.4f}" for k in ("precision", "recall", "f1_score")]


async def test_enter_on_a_cell_opens_the_gallery_of_that_cell_s_images(tmp_path):
    make_metrics_experiment(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        app.screen.image_class = HalfcellImage  # the same drawing on every terminal
        await pilot.press("left", "left", "up", "up")  # from 4 → 9 to 2 → 7
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, GalleryScreen), what="the gallery")
        gallery = app.screen
        await pilot.pause()
        assert [(p.true, p.predicted) for p in gallery.wrong] == [(2, 7)] * fixed_confusion()[2][7]
        assert len(gallery.query(".digit-card")) == min(9, gallery.per_page)
        await pilot.press("escape", "g")  # every wrong image, page by page
        await wait_for(pilot, lambda: isinstance(app.screen, GalleryScreen))
        total = sum(c for t, row in enumerate(fixed_confusion()) for p, c in enumerate(row) if t != p)
        assert len(app.screen.wrong) == total and app.screen.pages == -(-total // app.screen.per_page)
        await pilot.press("pagedown")
        assert app.screen.page == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        matrix = app.screen.query_one(ConfusionMatrix)
        # matrix has padding 0 1: the cell (9, 4) starts at column 1 + 4 + 4 * 5, row 1 + 9
        await pilot.click(ConfusionMatrix, offset=(1 + 4 + 4 * 5, 10))
        assert matrix.cursor == (9, 4)
        await pilot.click(ConfusionMatrix, offset=(1 + 4 + 4 * 5, 10))
        await wait_for(pilot, lambda: isinstance(app.screen, GalleryScreen))
        assert len(app.screen.wrong) == fixed_confusion()[9][4]


async def test_the_training_screen_opens_the_metrics_of_its_experiment(tmp_path):
    make_metrics_experiment(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TrainingScreen", what="the training screen")
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        assert app.screen.experiment.name == METRICS_NAME


async def test_a_missing_or_damaged_predictions_file_is_said_in_one_line(tmp_path):
    path = make_metrics_experiment(tmp_path)
    data = predictions_path(path).read_bytes()
    predictions_path(path).write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        hint = str(app.screen.query_one("#metrics-hint", Static).content)
        assert hint.startswith("No gallery: predictions.bin: damaged") and "\n" not in hint
        await pilot.press("enter")  # no gallery without its file: a notice instead
        assert isinstance(app.screen, MetricsScreen)
    predictions_path(path).unlink()
    screen = MetricsScreen(path)
    assert screen.predictions is None and "predictions.bin: missing" in screen.predictions_problem


def test_the_half_block_renderer_draws_two_pixels_a_cell_top_as_ink_bottom_as_paper():
    from PIL import Image

    image = Image.new("RGB", (2, 2))
    image.putdata([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)])  # row by row
    console = Console(width=10, color_system="truecolor", force_terminal=True)
    segments = [s for s in console.render(HalfcellRenderable(image, width=2, height=1)) if s.text != "\n"]
    cells = [(s.text, s.style.color.triplet, s.style.bgcolor.triplet) for s in segments]
    assert cells == [("▀", (255, 0, 0), (0, 0, 255)), ("▀", (0, 255, 0), (255, 255, 255))]


def test_a_test_image_becomes_the_picture_of_its_pixels_row_by_row():
    pixels = digit_pixels(7, seed=1)
    image = digit_image(pixels)
    assert image.size == (28, 28) and image.mode == "L"
    assert image.getpixel((2 + 2 * 5, 14)) == 255 and image.getpixel((27, 0)) == pixels[27]
    assert page_size(80, 24) == (5, 2) and page_size(120, 40) == (7, 4)


def test_opening_the_matrix_and_the_gallery_does_not_import_torch(tmp_path):
    make_metrics_experiment(tmp_path)
    code = f"""
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parent)!r})
from tui_helpers import make_app
from textual_image.widget import HalfcellImage
from savi_tui.tui.screens.gallery import GalleryScreen
from savi_tui.tui.screens.metrics import MetricsScreen

async def main():
    app = make_app(Path({str(tmp_path)!r}))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(MetricsScreen({str(tmp_path / METRICS_NAME)!r}, image_class=HalfcellImage))
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, GalleryScreen) and app.screen.query(".digit-card"), app.screen
    print("torch" in sys.modules)

asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


async def test_the_export_modal_serves_the_model_with_netron_until_it_closes(tmp_path):
    from savi_tui.core.export import ExportResult

    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x08\x07ONNX model bytes")
    result = ExportResult(model, "best.pkl", 8, 2.4e-07, (1, 7))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _listed(pilot)
        await app.push_screen(ExportScreen("m", result))
        await pilot.click("#netron")
        await pilot.pause()
        server = app.screen.netron
        assert server.is_serving()
        body = str(app.screen.query_one("#export-body", Static).content)
        assert server.url in body and f"ssh -L {server.address[1]}:localhost:{server.address[1]}" in body
        with urllib.request.urlopen(f"{server.url}/data/model.onnx", timeout=5) as answer:
            assert answer.read() == model.read_bytes()
        url = server.url
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen))
        assert not server.is_serving()
        with pytest.raises(OSError):  # refused: nothing listens there any more
            urllib.request.urlopen(url, timeout=2)
