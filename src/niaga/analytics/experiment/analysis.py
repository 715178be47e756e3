"""The statistics of an A/B test, on per-arm sufficient statistics (counts, sums, sums of squares), so one pass
over a million users is a group-by and everything after it is arithmetic on a few numbers per arm.

- Lift: the relative difference of the arm's mean over the control's, with a confidence interval and a
  two-sided p-value from the delta-method variance of the ratio (GrowthBook's frequentist engine).
- Sample-ratio mismatch (SRM): a chi-square goodness-of-fit test of the users per arm against the planned
  split; a p-value under ``SRM_ALPHA`` means the assignment or the logging is broken and the lift is not to
  be trusted (GrowthBook and Spotify Confidence use the same threshold).
- CUPED (Deng et al. 2013): with a pre-period covariate X, Y - theta (X - mean X) has the same mean
  difference and less variance; theta = cov(X, Y) / var(X) over all the experiment's users.
- Benjamini-Hochberg: the false-discovery-rate adjusted p-values across an experiment's metrics, arms and
  segments.
- Sequential p-value: the mixture sequential probability ratio test (mSPRT, Johari et al. 2017, Optimizely's
  Stats Engine) with a normal mixture over the effect; it stays valid however often one looks.

Every function is vectorized over numpy arrays so the validity simulations (tests, benchmark) run thousands
of experiments in one call.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

SRM_ALPHA = 0.001


def ratio_lift(n_c, mean_c, var_c, n_t, mean_t, var_t, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Relative lift mean_t / mean_c - 1 with its delta-method standard error, interval and p-value."""
    n_c, mean_c, var_c, n_t, mean_t, var_t = (np.asarray(a, dtype=float) for a in
                                              (n_c, mean_c, var_c, n_t, mean_t, var_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = mean_t / mean_c - 1
        se = np.sqrt(var_t / (n_t * mean_c ** 2) + mean_t ** 2 * var_c / (n_c * mean_c ** 4))
        z = lift / se
    p = 2 * stats.norm.sf(np.abs(z))
    p = np.where(se > 0, p, np.where(lift == 0, 1.0, np.nan))  # no variance at all: nothing can be said
    half = stats.norm.ppf(1 - alpha / 2) * se
    return {"lift": lift, "se": se, "ci_low": lift - half, "ci_high": lift + half, "p_value": p}


def sequential_p_value(lift, se, n_c, n_t, planned_users, alpha: float = 0.05) -> np.ndarray:
    """The always-valid p-value of the mSPRT for an estimate ``lift`` with standard error ``se``.

    The mixture's variance is tau^2 = rho V_planned, V_planned the variance the estimate will have at
    ``planned_users`` per arm and rho = -2 ln(alpha) + ln(1 - 2 ln(alpha)) (8 at alpha 0.05): the mixture that
    makes the test's boundary tightest at the planned size (Howard et al. 2021; GrowthBook's tuning parameter).
    The likelihood ratio of a normal mixture is
    sqrt(V / (V + tau^2)) exp(lift^2 tau^2 / (2 V (V + tau^2))), and p = min(1, 1 / ratio). Rejecting when it
    falls under alpha at any look keeps the false-positive rate under alpha (a test martingale, Ville's
    inequality)."""
    lift, se, n_c, n_t, planned = (np.asarray(a, dtype=float) for a in (lift, se, n_c, n_t, planned_users))
    variance = se ** 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rho = -2 * np.log(alpha) + np.log(1 - 2 * np.log(alpha))
        tau2 = rho * variance * (2.0 / planned) / (1.0 / n_c + 1.0 / n_t)
        log_ratio = 0.5 * np.log(variance / (variance + tau2)) + lift ** 2 * tau2 / (2 * variance * (variance + tau2))
        p = np.minimum(1.0, np.exp(-log_ratio))
    return np.where(se > 0, p, np.where(lift == 0, 1.0, np.nan))


def srm_p_value(counts, shares=None) -> float:
    """Chi-square goodness of fit of the users per arm against the planned shares (equal when None)."""
    counts = np.asarray(counts, dtype=float)
    if counts.sum() == 0 or len(counts) < 2:
        return float("nan")
    shares = np.full(len(counts), 1 / len(counts)) if shares is None else np.asarray(shares, dtype=float)
    expected = counts.sum() * shares / shares.sum()
    return float(stats.chisquare(counts, expected).pvalue)


def benjamini_hochberg(p_values) -> np.ndarray:
    """FDR-adjusted p-values (Benjamini-Hochberg step-up); NaN stays NaN and counts for nothing."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    if not len(present):
        return adjusted
    order = present[np.argsort(p[present])]
    m = len(order)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return adjusted


def cuped(n, sum_y, sum_y2, sum_x, sum_x2, sum_xy) -> dict[str, np.ndarray]:
    """Per-arm means and variances of Y adjusted by the covariate X (arrays over the arms of one comparison
    group), theta estimated over all of them together; and the share of variance removed."""
    n, sum_y, sum_y2, sum_x, sum_x2, sum_xy = (np.asarray(a, dtype=float) for a in
                                               (n, sum_y, sum_y2, sum_x, sum_x2, sum_xy))
    total = n.sum()
    pooled_x = sum_x.sum() / total
    var_x_all = sum_x2.sum() / total - pooled_x ** 2
    cov_all = sum_xy.sum() / total - pooled_x * sum_y.sum() / total
    theta = cov_all / var_x_all if var_x_all > 0 else 0.0
    mean_y, mean_x = sum_y / n, sum_x / n
    ddof = n / np.maximum(n - 1, 1)
    var_y = (sum_y2 / n - mean_y ** 2) * ddof
    var_x = (sum_x2 / n - mean_x ** 2) * ddof
    cov = (sum_xy / n - mean_x * mean_y) * ddof
    adjusted_var = np.maximum(var_y + theta ** 2 * var_x - 2 * theta * cov, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = 1 - adjusted_var.sum() / var_y.sum()
    return {"mean": mean_y - theta * (mean_x - pooled_x), "var": adjusted_var, "theta": theta,
            "variance_reduction": reduction}
