"""How many users an experiment needs: users per arm for a relative lift, at a significance level and power.

The size is computed for the test ``analysis`` runs (a two-sided z-test of the relative lift, its variance by
the delta method, as GrowthBook's frequentist engine does), so the planned size gives the planned power with
niaga's own analysis; the textbook two-proportion formula (Evan Miller's calculator) differs by a few percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from niaga.errors import DataError


MAX_USERS = 1e12


@dataclass(frozen=True)
class Plan:
    baseline: float
    mde: float
    alpha: float
    power: float
    users_per_arm: int
    arms: int

    @property
    def total_users(self) -> int:
        return self.users_per_arm * self.arms


def _check(baseline: float, mde: float, alpha: float, power: float, std: float | None) -> None:
    if std is None and not 0 < baseline < 1:
        raise DataError(f"--baseline: a conversion rate between 0 and 1 (e.g. 0.05), got {baseline}")
    if std is not None and (baseline <= 0 or std <= 0):
        raise DataError(f"--baseline and --std: a positive mean and standard deviation, got {baseline} and {std}")
    if mde == 0 or mde <= -1:
        raise DataError(f"--mde: the relative lift to detect, e.g. 0.1 for +10 %, not 0 or below -1; got {mde}")
    if std is None and not 0 < baseline * (1 + mde) < 1:
        raise DataError(f"--mde: the treated rate {baseline * (1 + mde):.4g} must stay between 0 and 1")
    if not 0 < alpha < 1:
        raise DataError(f"--alpha: a significance level between 0 and 1 (e.g. 0.05), got {alpha}")
    if not 0 < power < 1:
        raise DataError(f"--power: between 0 and 1 (e.g. 0.8), got {power}")


def _variances(baseline: float, mde: float, std: float | None) -> tuple[float, float, float]:
    """(control mean, control variance, treatment variance) per user."""
    treated = baseline * (1 + mde)
    if std is None:
        return baseline, baseline * (1 - baseline), treated * (1 - treated)
    variance = std * std  # inf rather than OverflowError for absurd input
    return baseline, variance, variance


def users_per_arm(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8,
                  std: float | None = None, arms: int = 2) -> Plan:
    """Users each arm needs to detect a relative lift ``mde`` over ``baseline`` (a rate, or a mean with ``std``)
    with a two-sided test at ``alpha`` and the given power. Several treatment arms share the control: pass the
    Bonferroni-adjusted alpha yourself if you want it."""
    _check(baseline, mde, alpha, power, std)
    mean, var_c, var_t = _variances(baseline, mde, std)
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))  # Python floats: no warnings on absurd input
    try:
        effect = (mean * mde) ** 2
        n = z ** 2 * (var_t + (1 + mde) ** 2 * var_c) / effect if effect > 0 else math.inf
    except OverflowError:  # numbers beyond a float's range (fuzzed input)
        n = math.inf
    if not n < MAX_USERS:
        raise DataError(f"more than {MAX_USERS:.0e} users per arm would be needed: the lift is too small to detect "
                        "against this variance; test a larger --mde")
    return Plan(baseline, mde, alpha, power, int(math.ceil(n)), arms)


def power_at(users: int, baseline: float, mde: float, alpha: float = 0.05, std: float | None = None) -> float:
    """The power of the test with ``users`` per arm (both tails)."""
    _check(baseline, mde, alpha, 0.5, std)
    mean, var_c, var_t = _variances(baseline, mde, std)
    shift = abs(mean * mde) * math.sqrt(users) / math.sqrt(var_t + (1 + mde) ** 2 * var_c)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))
