"""Per-item statistical forecasts from Nixtla's statsforecast, the field's standard baselines: seasonal naive,
the moving average of the last 4 periods, Croston (for intermittent items: many periods without a sale) and
AutoETS (exponential smoothing with the error, trend and season chosen per item by AICc).

statsforecast's models are called directly on each item's numpy history (``model.forecast(y, h)``), not
through its pandas front end: that front end pins pandas < 3, the models themselves do not care.
"""

from __future__ import annotations

import warnings

import numpy as np

from niaga.analytics.forecast.base import DemandForecaster, DemandPanel, history
from niaga.analytics.forecast.calendar import SEASON
from niaga.errors import NiagaError

KINDS = ("seasonal_naive", "moving_average", "croston", "ets")


def _models():
    try:
        from statsforecast import models
    except ImportError as exc:  # pragma: no cover - a dependency of niaga
        raise NiagaError("the statistical forecasts need statsforecast: pip install --no-deps 'statsforecast>=2.1' "
                         "(see the Makefile)") from exc
    return models


class StatisticalForecaster(DemandForecaster):
    """One statsforecast model per item.

    ``kind``: seasonal_naive (the same period a season ago; the last value while the history is shorter than a
    season), moving_average (mean of the last ``window`` periods), croston (Croston's classic method), ets
    (AutoETS, seasonal only when the item has two seasons of history).
    Learned state: ``history_`` (items × periods, NaN before the first sale), ``freq_``.
    """

    def __init__(self, kind: str = "ets", horizon: int = 8, calibrate: bool = True, window: int = 4):
        self.kind = kind
        self.horizon = horizon
        self.calibrate = calibrate
        self.window = window

    @property
    def name(self) -> str:
        return self.kind

    def _fit(self, panel: DemandPanel) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        self.history_ = np.asarray(panel.quantity, dtype=float)
        self.freq_ = panel.freq

    def _model(self, length: int):
        models, season = _models(), SEASON[self.freq_]
        if self.kind == "seasonal_naive":
            return models.SeasonalNaive(season_length=season) if length > season else models.Naive()
        if self.kind == "moving_average":
            return models.WindowAverage(window_size=min(int(self.window), length))
        if self.kind == "croston":
            return models.CrostonClassic()
        return models.AutoETS(season_length=season if length >= 2 * season else 1)

    def predict_mean(self, horizon: int, gap: int = 0) -> np.ndarray:
        steps = horizon + gap
        out = np.zeros((len(self.history_), steps))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsforecast warns on short histories; they are handled above
            for i, row in enumerate(self.history_):
                y = history(row)
                if len(y) == 0:
                    continue
                if len(y) < 3 or not np.any(y):  # too short or never sold: the mean so far
                    out[i] = y.mean()
                    continue
                try:
                    out[i] = self._model(len(y)).forecast(y=y.astype(float), h=steps)["mean"]
                except Exception:  # noqa: BLE001 - a degenerate series (e.g. ETS fails to fit): its mean
                    out[i] = y[-int(self.window):].mean()
        return np.nan_to_num(out[:, gap:], nan=0.0)
