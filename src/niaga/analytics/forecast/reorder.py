"""Reorder points and quantities from the forecast distribution, and the simulation that checks them.

Demand over the lead time is the sum of the forecasts of the periods it covers (a part period counts in
part); its spread comes from the upper half of each period's 95 % interval ((hi_95 − forecast) / 1.96
standard deviations: demand is skewed to the right and only the upper tail runs a shop out of stock),
periods taken as independent. At service level α (the chance of no stock-out in a cycle):
safety stock = z(α) · σ over the lead time; reorder point = lead-time demand + safety stock; an item at or
below its reorder point is ordered up to the demand over the lead time and one review period plus its safety
stock.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
Z_95 = float(stats.norm.ppf(0.975))


def period_sigma(mean: np.ndarray, bounds: np.ndarray | None) -> np.ndarray:
    """items × periods standard deviation of demand: from the upper half of the 95 % interval (bounds' last
    quantile, 0.975), else Poisson (√mean)."""
    if bounds is None:
        return np.sqrt(np.maximum(mean, 0))
    return np.maximum((bounds[:, :, -1] - mean) / Z_95, 0)


def _window(values: np.ndarray, periods: float) -> np.ndarray:
    """Sum over the first ``periods`` periods (fractional) of each row."""
    whole = int(np.floor(periods))
    total = values[:, :whole].sum(axis=1)
    if periods > whole and whole < values.shape[1]:
        total = total + (periods - whole) * values[:, whole]
    return total


def reorder_plan(mean: np.ndarray, bounds: np.ndarray | None, stock: np.ndarray, lead_time_days: float,
                 service: float, freq: str, review_periods: float = 1.0) -> dict[str, np.ndarray]:
    """Per item: lead-time demand, safety stock, reorder point, order-up-to level, order quantity, reorder."""
    if not 0.5 <= service < 1:
        raise ValueError(f"service level must be in [0.5, 1), got {service}")
    lead = lead_time_days / PERIOD_DAYS[freq]
    need = int(np.ceil(lead + review_periods))
    if need > mean.shape[1]:
        raise ValueError(f"the lead time and review period cover {need} periods; the model forecasts "
                         f"{mean.shape[1]}: train it with --horizon {need} or more")
    z = float(stats.norm.ppf(service))
    variance = period_sigma(mean, bounds) ** 2
    lead_demand = _window(mean, lead)
    safety = z * np.sqrt(_window(variance, lead))
    cover_demand = _window(mean, lead + review_periods)
    cover_safety = z * np.sqrt(_window(variance, lead + review_periods))
    reorder_point = lead_demand + safety
    order_up_to = cover_demand + cover_safety
    reorder = stock <= reorder_point
    quantity = np.where(reorder, np.ceil(np.maximum(order_up_to - stock, 0)), 0)
    return {"lead_time_demand": lead_demand, "safety_stock": safety, "reorder_point": reorder_point,
            "order_up_to": order_up_to, "order_quantity": quantity, "reorder": reorder}


def simulate(demand: np.ndarray, mean: np.ndarray, bounds: np.ndarray | None, lead_periods: int,
             service: float) -> dict[str, float]:
    """Periodic review each period, orders arriving ``lead_periods`` later, unmet demand lost.

    The order-up-to level of period k is planned at the forecast origin: the forecast demand of periods
    k .. k + lead, plus z(service) standard deviations. Starts with that level on hand. Returns the fill
    rate (units served / units demanded, over every item) and the average units on hand at period end.
    """
    n, horizon = demand.shape
    z = float(stats.norm.ppf(service))
    variance = period_sigma(mean, bounds) ** 2
    levels = np.zeros((n, horizon))
    for k in range(horizon):
        window = slice(k, min(k + lead_periods + 1, horizon))
        levels[:, k] = mean[:, window].sum(axis=1) + z * np.sqrt(variance[:, window].sum(axis=1))
    on_hand = levels[:, 0].copy()
    pipeline = np.zeros((n, horizon + lead_periods + 1))
    served = stocked = 0.0
    for k in range(horizon):
        on_hand += pipeline[:, k]
        position = on_hand + pipeline[:, k + 1:].sum(axis=1)
        pipeline[:, k + lead_periods] += np.maximum(levels[:, k] - position, 0) if lead_periods else 0
        if lead_periods == 0:
            on_hand = np.maximum(on_hand, levels[:, k])
        sold = np.minimum(on_hand, demand[:, k])
        served += sold.sum()
        on_hand -= sold
        stocked += on_hand.sum()
    total = float(demand.sum())
    return {"fill_rate": served / total if total else 1.0, "average_stock": stocked / horizon,
            "average_stock_per_item": stocked / horizon / max(n, 1)}
