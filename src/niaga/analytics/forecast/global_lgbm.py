"""A global LightGBM model over all items: what per-item models miss, learned from every item at once.

Direct multi-horizon: one row per (item, origin period, step ahead h), so one model forecasts every step
without feeding its own forecasts back. Features at the origin: the last 4 periods, means of the last 4 / 8 /
13 / 26, the share of periods with a sale, the spread, the item's age, the price against the item's usual
price, the same period a season ago; of the target period: the Indonesian calendar (Ramadan, the weeks
around Lebaran, Harbolnas, payday), the week and month. Quantities are divided by the item's recent level, so
that a mug selling 2,000 a week and a lamp selling 3 teach the same shapes; the forecast is multiplied back.
"""

from __future__ import annotations

import numpy as np

from niaga.analytics.forecast.base import DemandForecaster, DemandPanel
from niaga.analytics.forecast.calendar import CALENDAR_FEATURES, SEASON, calendar_features, next_periods

ORIGIN_FEATURES = ["lag_0", "lag_1", "lag_2", "lag_3", "mean_4", "mean_8", "mean_13", "mean_26", "sale_share_13",
                   "std_13", "log_level", "age", "price_ratio", "trend"]
FEATURES = ["step", *ORIGIN_FEATURES, "season_ago", *CALENDAR_FEATURES]


def _rolling_mean(y: np.ndarray, window: int) -> np.ndarray:
    """items × T: mean of the last ``window`` observed values up to and including each period (NaN ignored)."""
    values, counts = np.nan_to_num(y), (~np.isnan(y)).astype(float)
    csum = np.cumsum(values, axis=1)
    ccount = np.cumsum(counts, axis=1)
    shifted = lambda a: np.concatenate([np.zeros((a.shape[0], window)), a[:, :-window]], axis=1)[:, :a.shape[1]]
    total, count = csum - shifted(csum), ccount - shifted(ccount)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def origin_features(quantity: np.ndarray, price: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each origin feature as an items × T matrix (divided by the level), and the level (items × T)."""
    q = quantity
    level = _rolling_mean(q, 26)
    expanding = _rolling_mean(q, q.shape[1])
    level = np.where(np.nan_to_num(level) > 0, level, expanding)
    level = np.maximum(np.nan_to_num(level), 0.1)
    lag = lambda k: np.concatenate([np.full((q.shape[0], k), np.nan), q[:, :q.shape[1] - k]], axis=1)
    sold = np.where(np.isnan(q), np.nan, (q > 0).astype(float))
    mean_sq = _rolling_mean(q ** 2, 13)
    mean_13 = _rolling_mean(q, 13)
    started = np.cumsum(~np.isnan(q), axis=1).astype(float)
    last_price = _ffill(price)
    usual_price = _rolling_mean(price, price.shape[1])
    features = {
        **{f"lag_{k}": lag(k) / level for k in range(4)},
        **{f"mean_{w}": _rolling_mean(q, w) / level for w in (4, 8, 13, 26)},
        "sale_share_13": _rolling_mean(sold, 13),
        "std_13": np.sqrt(np.maximum(mean_sq - mean_13 ** 2, 0)) / level,
        "log_level": np.log(level),
        "age": started,
        "price_ratio": last_price / usual_price,
        "trend": _rolling_mean(q, 4) / np.maximum(_rolling_mean(q, 13), 0.1),
    }
    return features, level


def _ffill(values: np.ndarray) -> np.ndarray:
    """Each row's last non-NaN value up to each column."""
    index = np.where(~np.isnan(values), np.arange(values.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = values[np.arange(values.shape[0])[:, None], index]
    return filled


class GlobalLGBMForecaster(DemandForecaster):
    """LightGBM over all items (direct multi-horizon, level-scaled target, squared error: the mean).

    Learned state: ``booster_`` (LightGBM's text model), ``quantity_`` and ``price_`` (the last
    ``context`` periods of the panel, from which the forecast features are computed), ``periods_``, ``freq_``.
    """

    def __init__(self, horizon: int = 8, calibrate: bool = True, n_estimators: int = 300, learning_rate: float = 0.05,
                 num_leaves: int = 31, min_child_samples: int = 50, max_rows: int = 200_000,
                 objective: str = "huber", huber_delta: float = 2.0, target_cap: float | None = 0.99, seed: int = 0):
        self.horizon = horizon
        self.calibrate = calibrate
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_rows = max_rows
        self.objective = objective
        self.huber_delta = huber_delta
        self.target_cap = target_cap
        self.seed = seed

    name = "lgbm"
    transient_state = ("_booster",)

    def _rows(self, panel: DemandPanel, steps: range, origins: np.ndarray, calendar, train: bool, computed=None):
        features, level = computed or origin_features(panel.quantity, panel.price)
        season = SEASON[panel.freq]
        q = panel.quantity
        n, T = q.shape
        blocks, targets = [], []
        rng = np.random.default_rng(self.seed)
        for h in steps:
            ts = origins[origins + h < T] if train else origins
            items, times = np.meshgrid(np.arange(n), ts, indexing="ij")
            items, times = items.ravel(), times.ravel()
            keep = ~np.isnan(q[items, times])  # the item existed at the origin
            if train:
                keep &= ~np.isnan(q[items, times + h])
            items, times = items[keep], times[keep]
            back = times + h - season
            season_ago = np.where(back >= 0, q[items, np.maximum(back, 0)], np.nan) / level[items, times]
            columns = [np.full(len(items), float(h))]
            columns += [features[name][items, times] for name in ORIGIN_FEATURES]
            columns.append(season_ago)
            cal = calendar[times + h] if train else calendar[np.full(len(items), h - 1)]
            block = np.column_stack(columns + [cal]).astype(np.float32)
            blocks.append(block)
            if train:
                targets.append(q[items, times + h] / level[items, times])
        X = np.vstack(blocks)
        y = np.concatenate(targets) if train else None
        if train and len(X) > self.max_rows:
            pick = rng.choice(len(X), self.max_rows, replace=False)
            X, y = X[pick], y[pick]
        return X, y, level

    def _fit(self, panel: DemandPanel) -> None:
        import lightgbm as lgb

        T = panel.quantity.shape[1]
        steps = range(1, int(self.horizon) + 1)
        calendar = calendar_features(panel.periods, panel.freq).to_numpy(dtype=np.float32)
        X, y, _ = self._rows(panel, steps, np.arange(T), calendar, train=True)
        if self.target_cap and len(y):
            y = np.minimum(y, np.quantile(y, self.target_cap))
        params = {"objective": self.objective, "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                  "min_child_samples": self.min_child_samples, "subsample": 0.8, "subsample_freq": 1,
                  "colsample_bytree": 0.8, "seed": self.seed, "verbose": -1, "num_threads": 1, "alpha": self.huber_delta}
        booster = lgb.train(params, lgb.Dataset(X, y, feature_name=FEATURES, free_raw_data=True),
                            num_boost_round=int(self.n_estimators))
        self.booster_ = booster.model_to_string()
        self._booster = booster
        context = min(T, 2 * SEASON[panel.freq] + 30)  # enough for a season ago and the longest mean
        self.quantity_ = panel.quantity[:, -context:]
        self.price_ = panel.price[:, -context:]
        self.periods_ = np.array([p.date().isoformat() for p in panel.periods[-context:]])  # ISO dates: no unit to mix up
        self.freq_ = panel.freq

    def _model(self):
        if getattr(self, "_booster", None) is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.booster_)
        return self._booster

    def predict_mean(self, horizon: int, gap: int = 0) -> np.ndarray:
        import pandas as pd

        steps = horizon + gap
        periods = pd.DatetimeIndex(pd.to_datetime(self.periods_))
        future = next_periods(periods[-1], steps, self.freq_)
        calendar = calendar_features(future, self.freq_).to_numpy(dtype=np.float32)
        panel = DemandPanel(self.items_, periods, self.quantity_, self.price_, self.freq_, periods[-1])
        T = self.quantity_.shape[1]
        out = np.zeros((len(self.items_), steps))
        computed = origin_features(self.quantity_, self.price_)
        for h in range(1, steps + 1):
            X, _, level = self._rows(panel, range(h, h + 1), np.array([T - 1]), calendar, train=False,
                                     computed=computed)
            existed = ~np.isnan(self.quantity_[:, T - 1])
            out[existed, h - 1] = self._model().predict(X, num_threads=1) * level[existed, T - 1]
        return out[:, gap:]
