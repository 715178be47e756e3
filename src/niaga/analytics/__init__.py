"""Analytics a shop acts on: demand forecasts, reorder points, price response, churn, experiments."""
