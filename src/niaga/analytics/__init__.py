"""Analytics a shop acts on: demand forecasts, experiments, churn."""
