"""An autoencoder trained on legitimate transactions; its reconstruction error is an anomaly score.

Trained with PyTorch; the learned weights are kept as numpy arrays, so scoring needs no PyTorch and one
transaction costs a few microseconds (a PyTorch call alone costs more than that).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data
from tqdm.auto import tqdm

from niaga.modeling import NiagaModel


def _prepare(X: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Standardise, missing → 0 (the mean), clip to ±10 so one extreme value cannot dominate the error."""
    Z = (np.asarray(X, dtype=np.float64) - mean) / scale
    return np.clip(np.nan_to_num(Z, nan=0.0, posinf=10.0, neginf=-10.0), -10.0, 10.0)


class Autoencoder(NiagaModel, BaseEstimator):
    """Dense autoencoder d → hidden → bottleneck → hidden → d (ReLU, linear output, MSE), fitted with Adam.

    ``fit(X, y)`` uses only the rows with ``y == 0`` when ``y`` is given; ``score_samples`` is the
    per-row mean squared reconstruction error (higher = more unusual).
    """

    task = "fraud"

    def __init__(self, hidden: int = 64, bottleneck: int = 8, epochs: int = 10, batch_size: int = 256,
                 learning_rate: float = 3e-3, max_rows: int = 200_000, random_state: int = 0, verbose: bool = False):
        self.hidden = hidden
        self.bottleneck = bottleneck
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_rows = max_rows
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y=None):
        import torch
        from torch import nn

        # missing and infinite values are allowed: _prepare maps them to the mean and to ±10
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False)
        if y is not None:
            X = X[np.asarray(y) == 0]
        rng = np.random.default_rng(self.random_state)
        if len(X) > self.max_rows:
            X = X[rng.choice(len(X), self.max_rows, replace=False)]
        if len(X) < 2:
            raise ValueError(f"the autoencoder needs at least 2 legitimate rows (y == 0) to train; n_samples={len(X)}")
        finite = np.where(np.isfinite(X), X, np.nan)
        with warnings.catch_warnings():  # a column without any value here: mean 0, scale 1
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_ = np.nan_to_num(np.nanmean(finite, axis=0))
            scale = np.nanstd(finite, axis=0)
        self.scale_ = np.where(np.nan_to_num(scale) > 1e-12, np.nan_to_num(scale), 1.0)
        data = torch.tensor(_prepare(X, self.mean_, self.scale_), dtype=torch.float32)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # a network this small trains faster on one thread than with thread hand-offs
        torch.manual_seed(self.random_state)
        d = data.shape[1]
        net = nn.Sequential(nn.Linear(d, self.hidden), nn.ReLU(), nn.Linear(self.hidden, self.bottleneck), nn.ReLU(),
                            nn.Linear(self.bottleneck, self.hidden), nn.ReLU(), nn.Linear(self.hidden, d))
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        generator = torch.Generator().manual_seed(self.random_state)
        self.loss_curve_ = []
        for _ in tqdm(range(self.epochs), desc="autoencoder", unit="epoch", disable=not self.verbose, leave=False):
            total = 0.0
            for batch in torch.randperm(len(data), generator=generator).split(self.batch_size):
                optimizer.zero_grad()
                loss = ((net(data[batch]) - data[batch]) ** 2).mean()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            self.loss_curve_.append(total / len(data))
        torch.set_num_threads(threads)
        self.layers_ = [(layer.weight.detach().numpy().T.astype(np.float64).copy(),
                         layer.bias.detach().numpy().astype(np.float64).copy())
                        for layer in net if isinstance(layer, nn.Linear)]
        return self

    def score_samples(self, X) -> np.ndarray:
        """Mean squared reconstruction error per row (numpy forward pass)."""
        X = np.atleast_2d(X)
        if X.shape[1] != self.n_features_in_:  # a shape check, not validate_data: this runs per transaction
            raise ValueError(f"X has {X.shape[1]} features, but Autoencoder is expecting {self.n_features_in_} "
                             "features as input")
        Z = _prepare(X, self.mean_, self.scale_)
        H = Z
        for i, (W, b) in enumerate(self.layers_):
            H = H @ W + b
            if i < len(self.layers_) - 1:
                np.maximum(H, 0.0, out=H)
        return ((H - Z) ** 2).mean(axis=1)


class FoldAutoencoders(BaseEstimator):
    """The autoencoders of the time folds of the training rows, each trained without one fold: a training
    row's error comes from the one that did not see it (``fit_transform``); any other row's error
    (``score_samples``: later rows, new data) from the one trained on the most recent folds (all but the
    first), which saw none of them either. One forward pass per row at scoring time, as with one autoencoder."""

    def __init__(self, n_folds: int = 2, epochs: int = 10, max_rows: int = 200_000, random_state: int = 0,
                 verbose: bool = False):
        self.n_folds = n_folds
        self.epochs = epochs
        self.max_rows = max_rows
        self.random_state = random_state
        self.verbose = verbose

    def fit_transform(self, X, y) -> np.ndarray:
        """Fit one autoencoder per fold (contiguous blocks of the rows, in stream order) on the legitimate
        rows of the other folds; return each row's out-of-fold error."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        bounds = np.linspace(0, len(X), self.n_folds + 1).astype(int)
        errors = np.empty(len(X))
        self.models_ = []
        for k in range(self.n_folds):
            inside = np.zeros(len(X), dtype=bool)
            inside[bounds[k]:bounds[k + 1]] = True
            model = Autoencoder(epochs=self.epochs, max_rows=max(self.max_rows // self.n_folds, 2),
                                random_state=self.random_state + k, verbose=self.verbose)
            model.fit(X[~inside], y[~inside])
            errors[inside] = model.score_samples(X[inside])
            self.models_.append(model)
        return errors

    def score_samples(self, X) -> np.ndarray:
        """Reconstruction error of rows after the training rows, by the autoencoder of the latest folds."""
        return self.models_[0].score_samples(X)
