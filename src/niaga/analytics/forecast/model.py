"""The saved demand model: the forecaster the holdout picked (or the one asked for) and the price response.

``kind="auto"`` fits every candidate and keeps the one with the lowest MASE on the last ``horizon`` periods
held out (the same holdout that calibrates the intervals), so the default is what the backtest picks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from niaga.analytics.forecast.base import LEVELS, QUANTILES, DemandPanel
from niaga.analytics.forecast.blend import BlendForecaster
from niaga.analytics.forecast.calendar import next_periods
from niaga.analytics.forecast.global_lgbm import GlobalLGBMForecaster
from niaga.analytics.forecast.price import PriceResponse
from niaga.analytics.forecast.statistical import KINDS, StatisticalForecaster
from niaga.modeling import NiagaModel

CANDIDATES = ("lgbm_ets", "lgbm", *KINDS)
PREDICTION_COLUMNS = ["item", "period", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]


def make_forecaster(kind: str, horizon: int):
    if kind == "lgbm_ets":
        return BlendForecaster(horizon=horizon, statistical="ets")
    if kind == "lgbm":
        return GlobalLGBMForecaster(horizon=horizon)
    if kind in KINDS:
        return StatisticalForecaster(kind=kind, horizon=horizon)
    raise ValueError(f"unknown forecaster {kind!r}: expected auto or one of {', '.join(CANDIDATES)}")


def fit_forecasters(panel: DemandPanel, kinds, horizon: int, log=None) -> dict:
    """kind → forecaster fitted on ``panel``; the lgbm_ets blend reuses lgbm and ets when both are asked for."""
    kinds = list(kinds)
    reuse = "lgbm_ets" in kinds and "lgbm" in kinds and "ets" in kinds
    fitted = {}
    for kind in kinds:
        if reuse and kind == "lgbm_ets":
            continue
        if log:
            log(f"fitting {kind} on {len(panel):,} items × {panel.quantity.shape[1]} periods")
        fitted[kind] = make_forecaster(kind, horizon).fit(panel)
    if reuse:
        fitted["lgbm_ets"] = BlendForecaster.from_members(panel, [fitted["lgbm"], fitted["ets"]])
    return {kind: fitted[kind] for kind in kinds}


class DemandModel(NiagaModel, BaseEstimator):
    """Per-item demand forecasts with intervals, and the price response.

    Learned state: ``forecaster_``, ``kind_`` (the forecaster kept), ``holdout_mase_`` (candidate → MASE on
    the holdout), ``price_``, ``freq_``, ``last_period_`` and ``gap_`` (the first forecast period is
    ``gap_ + 1`` periods after ``last_period_``), ``last_day_``, ``mean_`` and ``bounds_`` (the forecast of
    the next ``horizon`` periods, computed at fit time).
    """

    task = "forecast"

    def __init__(self, kind: str = "auto", horizon: int = 8, candidates: tuple = CANDIDATES):
        self.kind = kind
        self.horizon = horizon
        self.candidates = candidates

    def fit(self, panel: DemandPanel, y=None, log=None):
        kinds = list(self.candidates) if self.kind == "auto" else [self.kind]
        self.holdout_mase_ = {}
        fitted_kinds = kinds if self.kind != "auto" or panel.quantity.shape[1] > 2 * int(self.horizon) + 2 \
            else [k for k in kinds if k == "moving_average"] or kinds[:1]
        fitted = fit_forecasters(panel, fitted_kinds, int(self.horizon), log)
        for kind, forecaster in fitted.items():
            score = forecaster.holdout_mase_
            self.holdout_mase_[kind] = None if score is None else round(score, 4)
        scored = {k: v for k, v in self.holdout_mase_.items() if v is not None}
        # too short to hold out: the 4-period moving average, the sturdiest choice on little history
        fallback = "moving_average" if "moving_average" in kinds else kinds[0]
        self.kind_ = min(scored, key=scored.get) if scored else fallback
        if not scored and log:
            log(f"the history is too short to hold out {self.horizon} periods: kept {self.kind_}, without intervals")
        self.forecaster_ = fitted[self.kind_]
        self.price_ = PriceResponse().fit(panel)
        self.freq_ = panel.freq
        self.last_period_ = str(panel.periods[-1].date())
        self.last_day_ = str(pd.Timestamp(panel.last_day).date())
        self.gap_ = int(panel.gap)
        # the forecast is computed once here: a per-item model (AutoETS) refits at every forecast call, and
        # the API and the dashboard ask for it often
        self.mean_, self.bounds_ = self.forecaster_.predict(int(self.horizon), gap=self.gap_)
        return self

    @property
    def items(self) -> np.ndarray:
        return self.forecaster_.items_

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        return next_periods(pd.Timestamp(self.last_period_), horizon + self.gap_, self.freq_)[self.gap_:]

    def forecast(self, horizon: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(mean: items × horizon, bounds: items × horizon × QUANTILES or None) for the periods ahead."""
        horizon = int(horizon or self.horizon)
        if horizon <= self.mean_.shape[1]:
            return self.mean_[:, :horizon], None if self.bounds_ is None else self.bounds_[:, :horizon]
        return self.forecaster_.predict(horizon, gap=self.gap_)

    def predict(self, horizon: int | None = None) -> pd.DataFrame:
        """One row per item and period: item, period (ISO date of its start), forecast, lo_80, hi_80, lo_95, hi_95."""
        horizon = int(horizon or self.horizon)
        mean, bounds = self.forecast(horizon)
        periods = self.future_periods(horizon)
        n = len(self.items)
        frame = pd.DataFrame({"item": np.repeat(self.items, horizon),
                              "period": np.tile([p.date().isoformat() for p in periods], n),
                              "forecast": mean.ravel()})
        for level, (low, high) in LEVELS.items():
            for name, q in ((f"lo_{level}", low), (f"hi_{level}", high)):
                frame[name] = (bounds[:, :, QUANTILES.index(q)].ravel() if bounds is not None else np.nan)
        frame["lo_80"] = np.minimum(frame["lo_80"], frame["forecast"])
        frame["lo_95"] = np.minimum(frame["lo_95"], frame["lo_80"])
        frame["hi_80"] = np.maximum(frame["hi_80"], frame["forecast"])
        frame["hi_95"] = np.maximum(frame["hi_95"], frame["hi_80"])
        return frame[PREDICTION_COLUMNS].round(3)
