"""The mean of a global and a per-item forecaster: the global LightGBM model learns shapes shared across items,
AutoETS follows each item's own level and trend; their errors differ, so their average is usually better than
either (forecast combination, the M4 competition's lesson). Its intervals are calibrated like every other's."""

from __future__ import annotations

import numpy as np

from niaga.analytics.forecast.base import DemandForecaster, DemandPanel
from niaga.analytics.forecast.global_lgbm import GlobalLGBMForecaster
from niaga.analytics.forecast.statistical import StatisticalForecaster


class BlendForecaster(DemandForecaster):
    """Equal-weight mean of ``GlobalLGBMForecaster`` and ``StatisticalForecaster(kind=statistical)``.

    Learned state: ``members_`` (the two fitted forecasters, without intervals of their own).
    """

    def __init__(self, horizon: int = 8, calibrate: bool = True, statistical: str = "ets"):
        self.horizon = horizon
        self.calibrate = calibrate
        self.statistical = statistical

    @property
    def name(self) -> str:
        return f"lgbm_{self.statistical}"

    def _fit(self, panel: DemandPanel) -> None:
        self.members_ = [GlobalLGBMForecaster(horizon=self.horizon, calibrate=False),
                         StatisticalForecaster(kind=self.statistical, horizon=self.horizon, calibrate=False)]
        for member in self.members_:
            member.items_ = self.items_
            member._fit(panel)

    @classmethod
    def from_members(cls, panel: DemandPanel, members: list[DemandForecaster]) -> "BlendForecaster":
        """The blend of forecasters already fitted on ``panel`` (with their holdouts): nothing is fitted twice."""
        blend = cls(horizon=members[0].horizon, statistical=members[1].kind)
        blend.quantiles_ = blend.holdout_mase_ = blend.holdout_mean_ = None
        if all(m.holdout_mean_ is not None for m in members):
            blend._calibrate(panel, np.mean([np.clip(m.holdout_mean_, 0, None) for m in members], axis=0))
        blend.items_, blend.scale_, blend.level_ = members[0].items_, members[0].scale_, members[0].level_
        blend.members_ = members
        return blend

    def predict_mean(self, horizon: int, gap: int = 0) -> np.ndarray:
        return np.mean([np.clip(m.predict_mean(horizon, gap), 0, None) for m in self.members_], axis=0)
