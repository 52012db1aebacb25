"""training.png: epochs from 1, the dashed line where the best epoch really is."""

from savi_tui.core.events import EpochRecord
from savi_tui.core.plots import training_figure, write_training_plot


def history(test_losses):
    return [EpochRecord(i + 1, 1.0 / (i + 1), loss, 0.9, 0.9, 1.0) for i, loss in enumerate(test_losses)]


def test_epochs_start_at_one_and_the_best_line_is_at_the_best_epoch():
    figure = training_figure(history([0.5, 0.3, 0.2, 0.25]), best_epoch=3)
    axes = figure.axes[0]
    train, test, best = axes.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4]
    assert list(test.get_ydata()) == [0.5, 0.3, 0.2, 0.25]
    assert list(best.get_xdata()) == [3, 3] and best.get_linestyle() == "--"
    assert "best epoch (3)" in [text.get_text() for text in axes.get_legend().get_texts()]


def test_plot_file_is_a_png(tmp_path):
    write_training_plot(tmp_path / "training.png", history([0.4]), best_epoch=1)
    assert (tmp_path / "training.png").read_bytes()[:4] == b"\x89PNG"
