"""A group's mean ± standard deviation and Welch's t-test, against values computed independently."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from savi_tui.core.group_stats import noise_statement, spread, welch_t_test

# Welch's t-test's worked examples (Wikipedia, "Welch's t-test", Examples 1 and 2).
A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
B1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8]
B2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8]
B2 += [20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8]


def test_spread_is_the_mean_and_the_sample_standard_deviation():
    values = [0.971, 0.983, 0.979, 0.990]
    mean = sum(values) / 4
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)  # n - 1
    found = spread(values)
    assert found.n == 4
    assert found.mean == pytest.approx(mean, abs=1e-15)
    assert found.std == pytest.approx(std, abs=1e-15)
    assert found.describe() == f"{mean:.4f} ± {std:.4f}"
    assert found.describe(percent=True) == f"{mean * 100:.2f} ± {std * 100:.2f} %"


def test_one_value_has_no_standard_deviation_and_none_no_spread():
    assert spread([0.5]).std is None and spread([0.5]).describe() == "0.5000"
    assert spread([]) is None


@pytest.mark.parametrize(
    ("a", "b", "t", "df", "p"),
    [(A1, A2, -2.46, 24.99, 0.021), (B1, B2, -1.57, 9.90, 0.149)],
    ids=["example-1", "example-2"],
)
def test_welch_matches_the_published_examples(a, b, t, df, p):
    result = welch_t_test(a, b)
    assert round(result.t, 2) == t
    assert round(result.df, 2) == df
    assert round(result.p, 3) == p


def test_welch_matches_the_closed_form_of_the_t_distribution_with_two_degrees_of_freedom():
    # Two of each with equal variances: df = 2, where P(|T| > t) = 1 - t / sqrt(2 + t²).
    result = welch_t_test([1.0, 3.0], [4.0, 6.0])
    t = (2.0 - 5.0) / math.sqrt(2.0 / 2 + 2.0 / 2)
    assert result.t == pytest.approx(t)
    assert result.df == pytest.approx(2.0)
    assert result.p == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t), rel=1e-9)


def test_groups_without_any_spread_are_equal_or_different_for_sure():
    assert welch_t_test([0.9, 0.9], [0.9, 0.9]).p == 1.0
    assert welch_t_test([0.9, 0.9], [0.8, 0.8]).p == 0.0


def test_the_statement_says_whether_the_difference_is_larger_than_the_seeds_spread():
    assert noise_statement([0.990, 0.991, 0.989], [0.950, 0.952, 0.948]).endswith(
        "the difference is larger than the seeds' spread"
    )
    assert noise_statement([0.990, 0.980, 0.985], [0.984, 0.991, 0.979]).startswith("Welch's t-test, p = ")
    assert noise_statement([0.990, 0.980, 0.985], [0.984, 0.991, 0.979]).endswith("within the noise of the seeds")
    assert noise_statement([0.99], [0.95, 0.96]).startswith("cannot tell")


def test_a_significant_p_value_is_written_out():
    assert noise_statement(A1, A2) == "Welch's t-test, p = 0.021: the difference is larger than the seeds' spread"


def test_scipy_is_not_imported_until_a_test_is_computed():
    code = (
        "import sys; from savi_tui.core import group_stats, compare, experiment_groups; "
        "group_stats.spread([1, 2]); assert 'scipy' not in sys.modules; "
        "group_stats.welch_t_test([1, 2], [3, 5]); assert 'scipy' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
