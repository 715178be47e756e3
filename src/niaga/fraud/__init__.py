"""Fraud detection: transaction schema, batch and online features, YAML rules, LightGBM + autoencoder model,
real-time scorer and decision log (docs/fraud.md)."""
