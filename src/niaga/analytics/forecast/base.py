"""The demand panel every forecaster reads, and the contract every forecaster follows.

A panel is items × periods of quantities sold (NaN before an item's first sale: it did not exist yet) and the
average price paid per period. A forecaster is a scikit-learn estimator and a niaga model: ``fit(panel)``
learns and returns self; ``predict_mean(horizon)`` gives items × horizon mean demand for the periods after the
panel. Intervals are the same for every forecaster (split conformal, so that they can be compared): at fit
time the forecaster is also fitted on the panel without its last ``horizon`` periods, and the errors it makes
on them, divided by each item's scale, give the quantiles the final forecast is widened by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from niaga.modeling import NiagaModel

#: interval levels written by predict: (lower quantile, upper quantile) of each central interval
LEVELS = {80: (0.10, 0.90), 95: (0.025, 0.975)}
QUANTILES = (0.025, 0.10, 0.90, 0.975)


@dataclass
class DemandPanel:
    items: np.ndarray  # (n,) item ids as text
    periods: pd.DatetimeIndex  # (T,) period starts
    quantity: np.ndarray  # (n, T) units sold; NaN before the item's first sale
    price: np.ndarray  # (n, T) average price paid; NaN where nothing sold
    freq: str  # D, W or M
    last_day: pd.Timestamp  # the log's last day (forecasts start with the period after it)
    gap: int = 0  # periods between the panel's last period and the first forecast period (a partial period left out)

    def __len__(self) -> int:
        return len(self.items)

    def head(self, periods: int) -> "DemandPanel":
        """The panel cut after its first ``periods`` periods (for a backtest origin); items not yet sold dropped."""
        keep = ~np.all(np.isnan(self.quantity[:, :periods]), axis=1)
        return DemandPanel(self.items[keep], self.periods[:periods], self.quantity[keep, :periods],
                           self.price[keep, :periods], self.freq, self.periods[periods - 1], 0)

    def select(self, mask: np.ndarray) -> "DemandPanel":
        return DemandPanel(self.items[mask], self.periods, self.quantity[mask], self.price[mask], self.freq,
                           self.last_day, self.gap)


def history(row: np.ndarray) -> np.ndarray:
    """An item's observed periods (from its first sale on)."""
    observed = np.flatnonzero(~np.isnan(row))
    return row[observed[0]:] if len(observed) else row[:0]


def mase_scale(quantity: np.ndarray) -> np.ndarray:
    """Per item: the mean absolute one-step change over its history (the naive forecast's in-sample error, the
    MASE denominator); the mean level where the history never changed; 1 where it is empty or all zero."""
    scales = np.ones(len(quantity))
    for i, row in enumerate(quantity):
        y = history(row)
        if len(y) > 1 and np.abs(np.diff(y)).mean() > 0:
            scales[i] = np.abs(np.diff(y)).mean()
        elif len(y) and y.mean() > 0:
            scales[i] = y.mean()
    return scales


def recent_level(quantity: np.ndarray, periods: int = 13) -> np.ndarray:
    """Per item: mean units over its last ``periods`` observed periods (0 when none)."""
    window = quantity[:, -periods:]
    counts = (~np.isnan(window)).sum(axis=1)
    return np.where(counts > 0, np.nansum(window, axis=1) / np.maximum(counts, 1), 0.0)


class DemandForecaster(NiagaModel, BaseEstimator):
    """Base of every forecaster: ``fit(panel)``, ``predict_mean(horizon)``, ``predict(horizon)``.

    Learned state of the base: ``items_``, ``scale_`` (per item), ``quantiles_`` (QUANTILES of the scaled
    holdout errors per band of recent volume and step: bands × horizon × QUANTILES; None when the panel was
    too short to hold out), ``band_edges_`` and ``level_`` (each item's recent volume, which picks its band),
    ``holdout_mase_`` (the mean absolute scaled error: the MASE on the holdout, which picks the default model),
    ``holdout_mean_`` (the holdout forecast, from which a blend of fitted forecasters is calibrated).
    """

    task = "forecast"
    name = "base"

    #: bands of recent sales volume with intervals of their own
    bands = 4

    def __init__(self, horizon: int = 8, calibrate: bool = True):
        self.horizon = horizon
        self.calibrate = calibrate

    # subclasses implement these two: learn from a panel, and forecast the periods after it
    def _fit(self, panel: DemandPanel) -> None:  # pragma: no cover
        raise NotImplementedError

    def predict_mean(self, horizon: int, gap: int = 0) -> np.ndarray:  # pragma: no cover
        """items × horizon mean demand, for the ``horizon`` periods after the first ``gap`` ones."""
        raise NotImplementedError

    def fit(self, panel: DemandPanel, y=None):
        self.quantiles_, self.holdout_mase_, self.holdout_mean_ = None, None, None
        horizon = int(self.horizon)
        if self.calibrate and panel.quantity.shape[1] > 2 * horizon + 2:
            early = panel.head(panel.quantity.shape[1] - horizon)
            twin = self.__class__(**{**self.get_params(), "calibrate": False})
            twin.items_ = early.items
            twin._fit(early)
            self._calibrate(panel, twin.predict_mean(horizon))
        self.items_ = np.asarray(panel.items).astype(str)
        self.scale_ = mase_scale(panel.quantity)
        self.level_ = recent_level(panel.quantity)
        self._fit(panel)
        return self

    def _calibrate(self, panel: DemandPanel, predicted: np.ndarray) -> None:
        """Interval quantiles and holdout MASE from the forecast of the panel's last ``horizon`` periods made
        without them (``predicted``: one row per item sold before them)."""
        horizon = predicted.shape[1]
        early = panel.head(panel.quantity.shape[1] - horizon)
        rows = np.searchsorted(panel.items, early.items) if _sorted(panel.items) else \
            np.array([np.flatnonzero(panel.items == item)[0] for item in early.items])
        actual = panel.quantity[rows, -horizon:]
        errors = (actual - predicted) / mase_scale(early.quantity)[:, None]
        # Mondrian conformal: quantiles per band of recent sales volume, as a fast seller's scaled errors
        # are not distributed like those of an item that sells twice a quarter
        level = recent_level(early.quantity)
        self.band_edges_ = np.unique(np.quantile(level, np.linspace(0, 1, self.bands + 1)[1:-1]))
        band = np.searchsorted(self.band_edges_, level, side="right")
        overall = np.nanquantile(errors, QUANTILES, axis=0).T  # horizon × quantiles
        self.quantiles_ = np.stack([np.nanquantile(errors[band == b], QUANTILES, axis=0).T
                                    if (band == b).sum() >= 20 else overall
                                    for b in range(len(self.band_edges_) + 1)])  # bands × horizon × quantiles
        self.holdout_mase_ = float(np.nanmean(np.abs(errors)))
        self.holdout_mean_ = predicted

    def predict(self, horizon: int | None = None, gap: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """(mean: items × horizon, bounds: items × horizon × QUANTILES or None), never below zero."""
        horizon = int(horizon or self.horizon)
        mean = np.clip(self.predict_mean(horizon, gap), 0, None)
        if self.quantiles_ is None:
            return mean, None
        steps = np.minimum(np.arange(gap, gap + horizon), self.quantiles_.shape[1] - 1)
        band = np.searchsorted(self.band_edges_, self.level_, side="right")
        q = self.quantiles_[band][:, steps, :]  # items × horizon × quantiles
        bounds = mean[:, :, None] + self.scale_[:, None, None] * q
        return mean, np.clip(bounds, 0, None)


def _sorted(values: np.ndarray) -> bool:
    return len(values) < 2 or bool(np.all(values[:-1] <= values[1:]))
