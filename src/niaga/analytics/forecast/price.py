"""Price response: how demand moves with price, only where the log shows the price moving.

Per item, a log-log regression of the units sold per period on the average price paid, with a linear trend
so that a price cut during growth is not credited with the growth: the slope is the elasticity (-1.5: 10 %
cheaper sells about 15 % more), with a 95 % interval from its standard error. An item whose price varied
but with too few periods to estimate alone gets the pooled elasticity of the items that did (within-item
regression, every item's own level). An item whose price never varied has no answer: "unknown".

The estimate is observational: prices in a log move with promotions, customer mix (wholesale buyers pay less
per unit and buy more) and season, so read it as "how demand and price moved together", not as an experiment.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator

from niaga.analytics.forecast.base import DemandPanel
from niaga.modeling import NiagaModel

UNKNOWN, OWN, POOLED = "unknown", "item", "pooled"


class PriceResponse(NiagaModel, BaseEstimator):
    """Elasticity per item (own or pooled) with its 95 % interval.

    Learned state: ``items_``, ``source_`` (item / pooled / unknown per item), ``elasticity_``, ``low_``,
    ``high_``, ``price_min_``, ``price_max_``, ``reference_price_`` (the last price paid), ``pooled_`` (the
    pooled elasticity, low, high; NaN when no item's price varied).
    """

    task = "forecast"

    def __init__(self, min_periods: int = 8, min_variation: float = 0.02):
        self.min_periods = min_periods
        self.min_variation = min_variation

    def fit(self, panel: DemandPanel, y=None):
        n = len(panel.items)
        self.items_ = np.asarray(panel.items).astype(str)
        self.source_ = np.full(n, UNKNOWN, dtype=object)
        self.elasticity_, self.low_, self.high_ = (np.full(n, np.nan) for _ in range(3))
        self.price_min_ = np.nanmin(np.where(np.isnan(panel.price), np.inf, panel.price), axis=1)
        self.price_max_ = np.nanmax(np.where(np.isnan(panel.price), -np.inf, panel.price), axis=1)
        last = np.where(~np.isnan(panel.price), np.arange(panel.price.shape[1]), -1).max(axis=1)
        self.reference_price_ = np.where(last >= 0, panel.price[np.arange(n), np.maximum(last, 0)], np.nan)
        pooled_x, pooled_y, varied = [], [], np.zeros(n, dtype=bool)
        for i in range(n):
            sold = (panel.quantity[i] > 0) & (panel.price[i] > 0)
            if sold.sum() < 3:
                continue
            log_p, log_q = np.log(panel.price[i, sold]), np.log(panel.quantity[i, sold])
            t = np.flatnonzero(sold).astype(float)
            if np.std(log_p) < self.min_variation:
                continue
            varied[i] = True
            X = np.column_stack([log_p, t])
            X -= X.mean(axis=0)
            pooled_x.append(X)
            pooled_y.append(log_q - log_q.mean())
            if sold.sum() >= self.min_periods:
                self.elasticity_[i], self.low_[i], self.high_[i] = _slope(X, log_q - log_q.mean())
                self.source_[i] = OWN
        self.pooled_ = np.full(3, np.nan)
        if pooled_x:
            self.pooled_ = np.array(_slope(np.vstack(pooled_x), np.concatenate(pooled_y)))
            fill = varied & (self.source_ == UNKNOWN)
            self.elasticity_[fill], self.low_[fill], self.high_[fill] = self.pooled_
            self.source_[fill] = POOLED
        self.source_ = self.source_.astype(str)
        return self


def _slope(X: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """The first coefficient of a no-intercept least squares fit (the data are centred) and its 95 % interval."""
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    dof = max(len(y) - X.shape[1] - 1, 1)
    sigma2 = float(np.sum((y - X @ coef) ** 2) / dof)
    cov = sigma2 * np.linalg.pinv(X.T @ X)
    se = float(np.sqrt(max(cov[0, 0], 0.0)))
    t = float(stats.t.ppf(0.975, dof))
    return float(coef[0]), float(coef[0] - t * se), float(coef[0] + t * se)
