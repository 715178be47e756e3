"""Shared evaluation: metrics under scikit-learn's names, k-fold CV, and the report every evaluate writes."""

from niaga.evaluation.cv import cross_validate, kfold_splits, predict_and_proba
from niaga.evaluation.metrics import classification_metrics
from niaga.evaluation.report import write_classification_report

__all__ = ["classification_metrics", "cross_validate", "kfold_splits", "predict_and_proba", "write_classification_report"]
