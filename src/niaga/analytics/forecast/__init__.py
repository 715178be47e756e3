"""Demand forecasts per item (statistical per-item models and a global LightGBM model), reorder points from the
forecast distribution, price response and what-if answers (``niaga forecast``)."""
