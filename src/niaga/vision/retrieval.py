"""``RetrievalHead``: a small projection trained for search (ArcFace), on top of the product network's features.

A classifier's penultimate features are shaped for the classifier's linear heads, not for cosine nearest
neighbours: on fashion val 71 % of the ten nearest catalogue images share the query's articleType. The head maps
those features into a space where the angle itself encodes the labels: a two-layer perceptron, L2-normalized
output, trained with an additive angular margin (ArcFace, Deng et al. 2019) against one set of class centres
per label: the finest label first (what precision@10 counts), colour and gender with smaller weights (a shopper
searching with a photo of a navy backpack wants navy backpacks first). It trains on features computed once
(the network stays as it is), so it costs seconds, and applying it is two small matrix products in numpy: the
serving path needs no torch.

``fit(X, y)``: ``X`` float features (n, d) (``ProductClassifier.embed`` or the deployment runner's embedding
output), ``y`` a frame of label columns (first: the main one; "" is no label) or one array of labels.
``transform(X)``: (n, ``dim``) L2-normalized vectors. Learned state: ``weights_`` (the perceptron's arrays),
``classes_`` (column -> class names), ``history_`` (loss per epoch), ``n_features_in_``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from niaga.modeling import NiagaModel


class RetrievalHead(NiagaModel, TransformerMixin, BaseEstimator):
    """Two-layer projection (``hidden`` units, output ``dim``) trained with ArcFace (``scale``, ``margin``) for
    ``epochs`` of AdamW (``learning_rate``, ``weight_decay``, cosine decay) in batches of ``batch_size``;
    ``label_weights``: loss weight of each label column after the first (default 0.3 each)."""

    task = "vision"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # the vectors an index stores
        return tags

    def __init__(self, dim: int = 128, hidden: int = 512, scale: float = 30.0, margin: float = 0.2,
                 epochs: int = 40, batch_size: int = 512, learning_rate: float = 2e-3, weight_decay: float = 1e-4,
                 label_weights: float = 0.3, random_state: int | None = 0):
        self.dim = dim
        self.hidden = hidden
        self.scale = scale
        self.margin = margin
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.label_weights = label_weights
        self.random_state = random_state

    @staticmethod
    def _labels(y, n: int) -> pd.DataFrame:
        frame = y.copy() if isinstance(y, pd.DataFrame) else pd.DataFrame({"label": np.asarray(y)})
        if len(frame) != n:
            raise ValueError(f"{n} feature rows but {len(frame)} label rows")
        if frame.shape[1] == 0:
            raise ValueError("y has no label column")
        return frame.astype(str).replace({"nan": "", "None": ""}).reset_index(drop=True)

    def fit(self, X, y):
        import torch
        from torch.nn import functional as F

        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X = validate_data(self, X, dtype=np.float32)
        labels = self._labels(y, len(X))
        self.classes_ = {c: sorted(set(labels[c]) - {""}) for c in labels.columns}
        main = labels.columns[0]
        if len(self.classes_[main]) < 2:
            raise ValueError(f"{main}: need at least 2 classes (got {len(self.classes_[main])} class)")
        targets = {c: torch.tensor([{k: i for i, k in enumerate(self.classes_[c])}.get(v, -1) for v in labels[c]])
                   for c in labels.columns if len(self.classes_[c]) >= 2}
        seed = int(self.random_state) if self.random_state is not None else int(np.random.randint(2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], int(self.hidden)), torch.nn.ReLU(),
                                      torch.nn.Linear(int(self.hidden), int(self.dim)))
            centres = torch.nn.ParameterDict({c: torch.nn.Parameter(torch.randn(len(self.classes_[c]), int(self.dim))
                                                                     * 0.01) for c in targets})
            optimizer = torch.optim.AdamW([*net.parameters(), *centres.parameters()], lr=float(self.learning_rate),
                                          weight_decay=float(self.weight_decay))
            data = torch.from_numpy(X)
            steps = int(self.epochs) * max(1, math.ceil(len(X) / int(self.batch_size)))
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, float(self.learning_rate), total_steps=steps,
                                                            pct_start=0.1)
            cos_m, sin_m = math.cos(self.margin), math.sin(self.margin)
            self.history_ = []
            for _ in range(int(self.epochs)):
                order = torch.randperm(len(X))
                total = 0.0
                for start in range(0, len(X), int(self.batch_size)):
                    rows = order[start:start + int(self.batch_size)]
                    z = F.normalize(net(data[rows]), dim=1)
                    loss = 0.0
                    for i, (column, target) in enumerate(targets.items()):
                        t = target[rows]
                        labelled = t >= 0
                        if not bool(labelled.any()):
                            continue
                        cosine = (z[labelled] @ F.normalize(centres[column], dim=1).t()).clamp(-1 + 1e-6, 1 - 1e-6)
                        sine = torch.sqrt(1 - cosine ** 2)
                        # cos(theta + m) on the true class only, where theta + m stays below pi
                        with_margin = torch.where(cosine > -cos_m, cosine * cos_m - sine * sin_m,
                                                  cosine - math.sin(math.pi - self.margin) * self.margin)
                        one_hot = F.one_hot(t[labelled], cosine.shape[1]).bool()
                        logits = self.scale * torch.where(one_hot, with_margin, cosine)
                        weight = 1.0 if i == 0 else float(self.label_weights)
                        loss = loss + weight * F.cross_entropy(logits, t[labelled])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    total += float(loss.detach()) * len(rows)
                self.history_.append(round(total / len(X), 4))
            self.weights_ = [p.detach().numpy().copy() for p in net.parameters()]
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, ["weights_"])
        X = validate_data(self, X, dtype=np.float32, reset=False)
        w1, b1, w2, b2 = self.weights_
        z = np.maximum(X @ w1.T + b1, 0.0) @ w2.T + b2
        return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)
