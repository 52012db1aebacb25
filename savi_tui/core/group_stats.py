"""A group's figures as mean ± sample standard deviation, and whether two groups differ by more than
their seeds' spread (Welch's t-test). scipy is imported only when a test is computed."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation (n - 1 in the denominator; None for n < 2) and n."""

    mean: float
    std: float | None
    n: int

    def describe(self, digits: int = 4, percent: bool = False) -> str:
        """ "0.9876 ± 0.0012", or "98.76 ± 0.12 %" with ``percent``; a lone value without ±."""
        scale, unit, digits = (100.0, " %", max(digits - 2, 0)) if percent else (1.0, "", digits)
        text = f"{self.mean * scale:.{digits}f}"
        if self.std is not None:
            text += f" ± {self.std * scale:.{digits}f}"
        return text + unit


def spread(values) -> Spread | None:
    """None for no values."""
    values = [float(v) for v in values]
    if not values:
        return None
    # two passes in floats: statistics.stdev's exact fractions took a third of listing 100 groups
    mean = math.fsum(values) / len(values)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) >= 2 else None
    return Spread(mean, std, len(values))


@dataclass(frozen=True)
class WelchResult:
    t: float
    df: float
    p: float  # two-sided


def welch_t_test(a, b) -> WelchResult:
    """Two-sided Welch's t-test of the means of ``a`` and ``b`` (each of 2 or more values).

    t = (mean_a - mean_b) / sqrt(s_a²/n_a + s_b²/n_b), with the Welch–Satterthwaite degrees of
    freedom; equal values on both sides (no spread at all) give p = 1 when the means agree, else 0.
    """
    from scipy.stats import t as t_distribution

    a, b = [float(v) for v in a], [float(v) for v in b]
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Welch's t-test needs at least two values in each group")
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    difference = statistics.fmean(a) - statistics.fmean(b)
    if va + vb == 0:
        t = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return WelchResult(t, math.inf, 1.0 if difference == 0 else 0.0)
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return WelchResult(t, df, float(2 * t_distribution.sf(abs(t), df)))


NOISE_LEVEL = 0.05  # a p-value under it is called larger than the spread


def noise_statement(a, b) -> str:
    """Plain words on whether the groups' difference is larger than the seeds' spread."""
    if len(a) < 2 or len(b) < 2:
        return "cannot tell: each group needs at least two seeds for Welch's t-test"
    result = welch_t_test(a, b)
    if result.p < NOISE_LEVEL:
        return f"Welch's t-test, p = {_p_text(result.p)}: the difference is larger than the seeds' spread"
    return f"Welch's t-test, p = {_p_text(result.p)}: within the noise of the seeds"


def _p_text(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"
