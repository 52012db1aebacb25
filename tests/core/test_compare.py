"""Comparing experiments and groups: the settings that differ, the figures, per-class differences,
the groups of the list, and the plain statement about noise."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from savi_tui.core.compare import compare
from savi_tui.core.errors import ExperimentError
from savi_tui.core.experiment_groups import gather_groups
from savi_tui.core.experiments import list_experiments
from tests.study_helpers import make_group, make_run


def rows_by_label(rows):
    return {row[0]: row[1:] for row in rows}


def test_only_the_settings_that_differ_are_shown(tmp_path):
    make_run(tmp_path, "conv", model="ModelConvNet", learning_rate=1e-3)
    make_run(tmp_path, "fc", model="ModelFullyConnected", learning_rate=1e-2)
    make_run(tmp_path, "fc-same-lr", model="ModelFullyConnected", learning_rate=1e-3)
    comparison = compare(["conv", "fc", "fc-same-lr"], list_experiments(tmp_path))
    assert comparison.differing_settings() == [
        ["model", "ModelConvNet", "ModelFullyConnected", "ModelFullyConnected"],
        ["learning_rate", "0.001", "0.01", "0.001"],
    ]


def test_a_groups_seeds_read_as_a_range_and_the_group_key_is_not_a_setting(tmp_path):
    make_group(tmp_path, "conv", [0.98, 0.99, 0.985])
    make_group(tmp_path, "fc", [0.95, 0.96], model="ModelFullyConnected")
    make_run(tmp_path, "odd-seeds-s0", group="odd", seed=0)
    make_run(tmp_path, "odd-seeds-s3", group="odd", seed=3)
    make_run(tmp_path, "odd-seeds-s7", group="odd", seed=7)
    settings = rows_by_label(compare(["conv", "fc", "odd"], list_experiments(tmp_path)).differing_settings())
    assert settings == {
        "model": ["ModelConvNet", "ModelFullyConnected", "ModelConvNet"],
        "seed": ["0-2", "0-1", "0,3,7"],
    }


def test_the_final_figures_stand_side_by_side(tmp_path):
    make_run(tmp_path, "a", accuracy=0.9812, best_loss=0.0612, epochs=4, seconds=12.5, parameters=206_922)
    make_run(tmp_path, "b", accuracy=0.9523, best_loss=0.1520, epochs=3, seconds=700.0, parameters=None)
    figures = rows_by_label(compare(["a", "b"], list_experiments(tmp_path)).figure_rows())
    assert figures["test accuracy"] == ["98.12%", "95.23%"]
    assert figures["global F1"] == ["0.9812", "0.9523"]  # the helper's F1 is its accuracy
    assert figures["macro F1"] == ["0.9900", "0.9900"]  # one error in 100 of each digit
    assert figures["best test loss"] == ["0.0612", "0.1520"]
    assert figures["best epoch"] == ["4", "3"]
    assert figures["training time"] == ["50 s", "35.0 min"]  # the sum of the epochs' seconds
    assert figures["parameters"] == ["206,922", "-"]  # from summary.txt's "Total params" line


def test_per_class_scores_come_with_their_difference_to_the_first(tmp_path):
    make_run(tmp_path, "a", errors_per_class=[0] * 10)
    make_run(tmp_path, "b", errors_per_class=[0, 0, 0, 0, 10, 0, 0, 0, 0, 0])  # 4 taken for 5, ten times
    rows = rows_by_label(compare(["a", "b"], list_experiments(tmp_path)).per_class_rows())
    assert rows["4 recall"] == ["1.0000", "0.9000 (-0.1000)"]
    assert rows["4 precision"] == ["1.0000", "1.0000 (+0.0000)"]
    assert rows["5 precision"] == ["1.0000", f"{100 / 110:.4f} ({100 / 110 - 1:+.4f})"]
    f1 = 2 * 0.9 / 1.9
    assert rows["4 F1"] == ["1.0000", f"{f1:.4f} ({f1 - 1:+.4f})"]
    assert len(rows) == 30


def test_a_group_shows_mean_std_and_n_and_whether_it_differs_by_more_than_the_noise(tmp_path):
    conv, fc = [0.990, 0.991, 0.989], [0.950, 0.953, 0.948]
    make_group(tmp_path, "conv", conv)
    make_group(tmp_path, "fc", fc, model="ModelFullyConnected")
    comparison = compare(["conv", "fc"], list_experiments(tmp_path))
    assert comparison.names == ["conv (group of 3)", "fc (group of 3)"]
    accuracy = rows_by_label(comparison.figure_rows())["test accuracy"]
    assert accuracy == [
        f"{statistics.mean(conv):.2%} ± {statistics.stdev(conv):.2%} (n=3)",
        f"{statistics.mean(fc):.2%} ± {statistics.stdev(fc):.2%} (n=3)",
    ]
    lines = comparison.noise_lines()
    assert lines[0].startswith("test accuracy, fc vs conv: Welch's t-test, p = ")
    assert lines[0].endswith("the difference is larger than the seeds' spread")
    assert lines[1].startswith("best test loss, fc vs conv: ")
    assert len(lines) == 2  # accuracy and best test loss (the global F1 is the accuracy)
    parameters = rows_by_label(comparison.figure_rows())["parameters"]
    assert parameters == ["206,922", "206,922"]  # the same in every run: no ± 0


def test_a_difference_within_the_seeds_spread_is_called_noise(tmp_path):
    make_group(tmp_path, "dropout-0.5", [0.990, 0.980, 0.985])
    make_group(tmp_path, "dropout-0.0", [0.984, 0.991, 0.979])
    lines = compare(["dropout-0.5", "dropout-0.0"], list_experiments(tmp_path)).noise_lines()
    assert lines[0].endswith("within the noise of the seeds")


def test_a_single_run_against_a_group_cannot_tell(tmp_path):
    make_group(tmp_path, "conv", [0.99, 0.98])
    make_run(tmp_path, "fc", accuracy=0.95)
    assert compare(["conv", "fc"], list_experiments(tmp_path)).noise_lines() == [
        "fc vs conv: cannot tell: each group needs at least two seeds for Welch's t-test"
    ]
    make_run(tmp_path, "fc2", accuracy=0.95)
    assert compare(["fc", "fc2"], list_experiments(tmp_path)).noise_lines() == []  # no group, no claim


def test_a_group_curve_is_its_mean_with_the_members_range(tmp_path):
    make_group(tmp_path, "conv", [0.98, 0.99], epochs=2)
    make_run(tmp_path, "fc", accuracy=0.95, epochs=2)
    group, single = compare(["conv", "fc"], list_experiments(tmp_path)).entries
    assert group.curve("test_accuracy") == ([1, 2], [pytest.approx(0.975), 0.985], [0.97, 0.98], [0.98, 0.99])
    assert single.curve("test_accuracy") == ([1, 2], [0.94, 0.95], None, None)


@pytest.mark.parametrize(
    ("names", "message"), [(["a", "nope"], "no experiment or group named 'nope'"), (["a"], "two or more")]
)
def test_a_missing_name_or_a_single_run_is_refused(tmp_path, names, message):
    make_run(tmp_path, "a")
    make_run(tmp_path, "b")
    with pytest.raises(ExperimentError, match=message):
        compare(names, list_experiments(tmp_path))


def test_the_list_gathers_a_groups_members_with_their_mean_and_spread(tmp_path):
    make_group(tmp_path, "conv", [0.97, 0.98, 0.99], best_loss=0.04)
    make_run(tmp_path, "loose")
    loose, groups = gather_groups(list_experiments(tmp_path))
    assert [info.name for info in loose] == ["loose"]
    group = groups["conv"]
    assert [m.name for m in group.members] == ["conv-s0", "conv-s1", "conv-s2"]
    assert group.n == 3 and group.state_text() == "complete"
    assert group.accuracy.mean == pytest.approx(0.98) and group.accuracy.std == pytest.approx(0.01)
    assert group.loss_spread.describe() == "0.0400 ± 0.0000"


def test_comparing_never_imports_torch(tmp_path):
    make_group(tmp_path, "conv", [0.98, 0.99])
    make_run(tmp_path, "fc")
    code = (
        "import sys; from savi_tui.core.compare import compare; from savi_tui.core.experiments import list_experiments;"
        f"c = compare(['conv', 'fc'], list_experiments({str(tmp_path)!r})); c.figure_rows(); c.per_class_rows();"
        "c.noise_lines(); assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
