"""A/B experiments: sticky assignment, sample sizes, and the analysis of lift, sample-ratio mismatch, CUPED,
multiple comparisons and always-valid (sequential) p-values."""
