"""Customers: promotion preference (seed 003 Naive Bayes), purchase intent, RFM segmentation, offers."""
