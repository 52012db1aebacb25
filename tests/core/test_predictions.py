"""predictions.bin: the best checkpoint's answers per test image, and confusion_matrix.png."""

from __future__ import annotations

import json

import pytest

from savi_tui.core.config import TrainConfig
from savi_tui.core.data import load_data
from savi_tui.core.metrics import largest_confusions, support
from savi_tui.core.plots import confusion_plot_path
from savi_tui.core.predictions import (
    IMAGE_BYTES,
    Predictions,
    PredictionsError,
    decode_predictions,
    encode_predictions,
    predictions_path,
    read_predictions,
    write_predictions,
)
from tests.conftest import start_run


def _three_wrong() -> Predictions:
    true, predicted = bytes([4, 4, 2, 7, 9, 4]), bytes([4, 9, 7, 7, 4, 9])
    wrong = [1, 2, 4, 5]  # positions where true != predicted
    pixels = b"".join(bytes([position]) * IMAGE_BYTES for position in wrong)
    return Predictions(
        epoch=3,
        true=true,
        predicted=predicted,
        confidence=[1.0, 0.5, 0.25, 0.999, 0.0, 0.75],
        wrong_pixels=pixels,
        source={"dataset": "mnist", "data_folder": None, "percentage": 1.0, "seed": 0},
    )


def test_predictions_survive_a_round_trip_with_the_pixels_of_each_wrong_image(tmp_path):
    path = tmp_path / "predictions.bin"
    write_predictions(path, _three_wrong())
    back = read_predictions(path)
    assert (back.epoch, back.true, back.predicted, back.source) == (
        3,
        b"\x04\x04\x02\x07\x09\x04",
        b"\x04\x09\x07\x07\x04\x09",
        _three_wrong().source,
    )
    assert back.confidence == pytest.approx([1.0, 0.5, 0.25, 0.999, 0.0, 0.75], abs=1 / 65535)
    assert [(p.position, p.true, p.predicted) for p in back.wrong()] == [(1, 4, 9), (2, 2, 7), (4, 9, 4), (5, 4, 9)]
    assert [p.position for p in back.wrong(true=4, predicted=9)] == [1, 5]
    assert all(back.pixels(p) == bytes([p.position]) * IMAGE_BYTES for p in back.wrong())
    assert back.confusion()[4] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 2]


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda data: data[:-1], "damaged"),
        (lambda data: data[:-5] + bytes([data[-5] ^ 1]) + data[-4:], "damaged"),
        (lambda data: b"PK\x03\x04" + data[4:], "not a savi-tui predictions file"),
        (lambda data: data[:40], "damaged"),
    ],
    ids=["truncated", "one-bit-flipped", "another-format", "cut-in-the-header"],
)
def test_a_damaged_predictions_file_is_refused_in_one_line(damage, says):
    with pytest.raises(PredictionsError, match=says) as error:
        decode_predictions(damage(encode_predictions(_three_wrong())))
    assert "\n" not in str(error.value)


def test_a_missing_predictions_file_says_so(tmp_path):
    with pytest.raises(PredictionsError, match="predictions.bin: missing"):
        read_predictions(tmp_path / "predictions.bin")


def test_largest_confusions_come_largest_first_with_their_share_of_the_true_class():
    confusion = [[0] * 10 for _ in range(10)]
    confusion[4][4], confusion[4][9], confusion[2][7], confusion[7][2], confusion[9][4] = 988, 12, 5, 5, 7
    cells = largest_confusions(confusion)
    assert [(c.true, c.predicted, c.count) for c in cells] == [(4, 9, 12), (9, 4, 7), (2, 7, 5), (7, 2, 5)]
    assert cells[0].describe() == "4 → 9: 12"
    assert cells[0].describe(with_share=True) == "4 → 9: 12 (1.2 % of the 4s)"
    assert largest_confusions(confusion, limit=1) == cells[:1]
    assert support(confusion)[4] == 1000


def test_the_trainer_writes_predictions_and_the_confusion_plot_at_each_new_best(tmp_path, tiny_mnist_root):
    cfg = TrainConfig(model="ModelFullyConnected", batch_size=32, epochs=1, seed=3, device="cpu", percentage=0.5)
    trainer, seen = start_run(tmp_path, tiny_mnist_root, cfg, name="run")
    assert trainer.run() == "finished"
    experiment = trainer.experiment
    statistics = json.loads(experiment.statistics_path.read_text())
    predictions = read_predictions(predictions_path(experiment.path))
    assert predictions.epoch == statistics["epoch"]
    assert predictions.confusion() == statistics["confusion_matrix"]
    assert predictions.source == {"dataset": "mnist", "data_folder": None, "percentage": 0.5, "seed": 3}
    # the pixels are the test images of the run's own subset, in its order
    test = load_data("mnist", root=tiny_mnist_root, percentage=0.5, seed=3).test
    assert len(predictions) == len(test)
    assert list(predictions.true) == test.labels.tolist()
    for wrong in predictions.wrong():
        assert predictions.pixels(wrong) == test.images[wrong.position].numpy().tobytes()
    assert predictions.wrong(), "an untrained net gets some wrong: the loop above must run"
    assert all(0.1 - 1e-4 <= c <= 1.0 for c in predictions.confidence)  # a softmax maximum over 10 classes
    assert confusion_plot_path(experiment.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_errors_prints_the_largest_confusions_after_the_usual_output(tmp_path, capsys):
    from savi_tui.cli import main
    from savi_tui.core.atomic import atomic_write_json
    from savi_tui.core.experiments import create_experiment
    from savi_tui.core.metrics import statistics_from_confusion

    confusion = [[1000 if t == p else 0 for p in range(10)] for t in range(10)]
    confusion[4][9], confusion[2][7], confusion[4][4] = 12, 5, 988
    experiment = create_experiment(tmp_path, "done", TrainConfig())
    atomic_write_json(experiment.statistics_path, {"epoch": 3, **statistics_from_confusion(confusion)})
    assert main(["show", "done", "--errors", "-ep", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    first = out.index("largest confusions of the best checkpoint (epoch 3, true → predicted):")
    assert out[first - 1].startswith("files: ")
    assert out[first + 1 :] == ["  4 → 9: 12 (1.2 % of the 4s)", "  2 → 7: 5 (0.5 % of the 2s)"]
    assert main(["show", "done", "-ep", str(tmp_path)]) == 0
    assert "largest confusions" not in capsys.readouterr().out
