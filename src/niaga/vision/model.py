"""``ProductClassifier``: the hierarchical product recognizer as a scikit-learn estimator and a niaga model.

``fit(X, y)``: ``X`` uint8 images (n, height, width, 3), all of one size (``niaga.vision.dataset.load_images``
makes them); ``y`` a frame with any of the columns ``master``, ``sub``, ``article`` (the category tree, coarse to
fine) and ``gender`` (empty: no label). The parents in ``y`` are re-derived from the finest level through the
majority-parent maps (the hierarchy check), so the heads learn one consistent tree. ``predict`` returns a frame
with each level's label and confidence, consistent with that tree (``niaga.vision.hierarchy``); ``embed`` the
L2-normalized features visual search indexes.

Saved: ``model.skops`` (settings, classes, tree, history), ``network.safetensors`` (weights), and for deployment
``network.onnx`` and ``network.int8.onnx`` with ``deployment.json`` (which runtime is fastest here, and how
closely int8 agrees with float) when onnx is installed (``niaga.vision.deploy``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from niaga.modeling import NiagaModel, load_torch_weights, save_torch_weights
from niaga.vision.checks import parent_maps, resolve_hierarchy
from niaga.vision.dataset import HEADS, LEVELS
from niaga.vision.hierarchy import Hierarchy
from niaga.vision.network import ProductNet, count_parameters
from niaga.vision.train import TrainConfig, to_input, train_network

WEIGHTS_FILE = "network.safetensors"


def weights_digest(net: torch.nn.Module) -> str:
    """sha256 of the network's tensors: names a set of weights (a search index records whose embeddings it holds)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def pooled_features(net: ProductNet, X: np.ndarray, mean: list[float], std: list[float], flip: bool,
                    batch_size: int = 256, n_jobs: int | None = None) -> np.ndarray:
    """L2-normalized pooled features (n, embedding_dim) of uint8 images ``X``, averaged with each mirror image
    when ``flip``: what search indexes and copy detection compares."""
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
    out = np.zeros((len(X), net.embedding_dim), dtype=np.float32)
    with _Threads(n_jobs), torch.inference_mode():
        for start in range(0, len(X), batch_size):
            x = to_input(torch.from_numpy(X[start:start + batch_size]), mean_t, std_t, False)
            e = net.embed(x)
            if flip:
                e = (e + net.embed(torch.flip(x, dims=[3]))) / 2
            out[start:start + len(x)] = torch.nn.functional.normalize(e, dim=1).numpy()
    return out


class _Threads:
    """Run with ``n`` torch threads (None: one per core), then restore the previous setting."""

    def __init__(self, n: int | None):
        self.n = int(n or os.cpu_count() or 1)

    def __enter__(self):
        self.previous = torch.get_num_threads()
        torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.previous)


class ProductClassifier(NiagaModel, BaseEstimator):
    """A small ResNet with one head per label level, trained from scratch or from pretrained weights.

    Network: ``widths`` and ``blocks`` per stage, ``stem_stride``, ``dropout`` before the heads.
    Training: ``minutes`` (time budget of the loop; the schedule follows the clock) or ``epochs`` (a fixed
    number of passes, schedule by steps), ``batch_size``, ``learning_rate`` (peak of the one-cycle schedule,
    SGD with Nesterov momentum), ``weight_decay``, ``warmup``, ``label_smoothing``, ``class_balance_power``
    (loss weight of class c ∝ n_c^-power; 0: none, 1: fully balanced), ``head_weights`` (loss weight per head),
    ``augment``, ``ema_decay``, ``precision`` ("fp32" or "bf16" autocast), ``channels_last``,
    ``validate_from`` (share of the run after which each epoch is scored on the validation data and the
    best weights kept), ``low_res_fraction`` (share of the run trained at half the image size).
    Transfer learning: ``pretrained`` (a safetensors file or a niaga vision model directory; every tensor whose
    name and shape match is loaded, heads of other label sets are not) and ``freeze_fraction`` (share of the run
    with the backbone frozen; default: 0.2 with ``pretrained``, else 0). Inference: ``flip_tta`` averages the
    image and its mirror. ``n_jobs``: torch threads (None: one per core, and in training one or all, whichever
    runs faster on the machine as it is, checked every epoch).
    ``random_state`` seeds initialisation, sampling and augmentation.

    Learned state: ``classes_`` (head -> sorted class names), ``hierarchy_``, ``image_size_`` (height, width),
    ``mean_`` / ``std_`` (per-channel input normalization), ``network_config_``, ``module_`` (the network, eval
    mode), ``history_`` (per epoch), ``training_`` (steps, epochs, seconds, best epoch), ``n_parameters_``.
    """

    task = "vision"
    external_state = ("module_", "deployment_files_")

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128), blocks: tuple[int, ...] = (1, 2, 4, 3),
                 stem_stride: int = 2, dropout: float = 0.2, minutes: float = 18.0, epochs: int | None = None,
                 batch_size: int = 128, learning_rate: float = 0.2, weight_decay: float = 5e-4, warmup: float = 0.15,
                 label_smoothing: float = 0.1, class_balance_power: float = 0.5, head_weights: dict | None = None,
                 augment: bool = True, ema_decay: float = 0.998, precision: str = "fp32", channels_last: bool = True,
                 validate_from: float = 0.5, low_res_fraction: float = 0.4, pretrained: str | None = None,
                 freeze_fraction: float | None = None,
                 flip_tta: bool = True, eval_batch_size: int = 256, n_jobs: int | None = None,
                 random_state: int | None = 0, verbose: bool = True):
        self.widths = widths
        self.blocks = blocks
        self.stem_stride = stem_stride
        self.dropout = dropout
        self.minutes = minutes
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.label_smoothing = label_smoothing
        self.class_balance_power = class_balance_power
        self.head_weights = head_weights
        self.augment = augment
        self.ema_decay = ema_decay
        self.precision = precision
        self.channels_last = channels_last
        self.validate_from = validate_from
        self.low_res_fraction = low_res_fraction
        self.pretrained = pretrained
        self.freeze_fraction = freeze_fraction
        self.flip_tta = flip_tta
        self.eval_batch_size = eval_batch_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- checks ----------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("batch_size", "eval_batch_size", "stem_stride"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.epochs is not None and (not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1):
            raise ValueError(f"epochs must be a positive integer or None, got {self.epochs!r}")
        if self.epochs is None and not (isinstance(self.minutes, (int, float)) and self.minutes > 0):
            raise ValueError(f"minutes must be positive, got {self.minutes!r}")
        if len(tuple(self.widths)) != len(tuple(self.blocks)) or not tuple(self.widths):
            raise ValueError(f"widths {self.widths!r} and blocks {self.blocks!r} need the same, non-zero length")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        for name in ("dropout", "warmup", "label_smoothing", "validate_from", "low_res_fraction"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if self.freeze_fraction is not None and not 0 <= self.freeze_fraction < 1:
            raise ValueError(f"freeze_fraction must be in [0, 1), got {self.freeze_fraction!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")

    @staticmethod
    def _check_images(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[-1] != 3 or X.dtype != np.uint8:
            raise ValueError(f"expected uint8 images of shape (n, height, width, 3), got {X.dtype} {X.shape}")
        return X

    # -- fitting ---------------------------------------------------------------------------------------------
    def fit(self, X, y: pd.DataFrame, validation_data: tuple | None = None, checkpoint_dir: str | Path | None = None,
            resume: bool = False):
        """Train on images ``X`` and labels ``y``; ``validation_data=(X_val, y_val)`` scores each late epoch and
        keeps the best weights; ``checkpoint_dir`` saves a checkpoint every epoch, ``resume`` continues from it."""
        self._check_params()
        X = self._check_images(X)
        y = self._labels_frame(y, len(X))
        levels = [level for level in LEVELS if level in y.columns]
        heads = [head for head in HEADS if head in y.columns]
        if not heads:
            raise ValueError(f"y needs at least one of the columns {', '.join(HEADS)}")
        maps, _ = parent_maps(y[y[levels].ne("").all(axis=1)], levels) if len(levels) > 1 else ({}, [])
        y = resolve_hierarchy(y, levels, maps) if maps else y
        self.classes_ = {}
        for head in heads:
            names = sorted(set(y[head]) - {""})
            if len(names) < 2:
                raise ValueError(f"{head}: need at least 2 classes to train, got {names}")
            self.classes_[head] = names
        self.hierarchy_ = Hierarchy(levels, {lv: self.classes_[lv] for lv in levels}, maps) if levels else None
        self.image_size_ = (int(X.shape[1]), int(X.shape[2]))
        sample = X[:: max(1, len(X) // 2000)].reshape(-1, 3).astype(np.float64) / 255.0
        self.mean_ = [float(v) for v in sample.mean(axis=0)]
        self.std_ = [float(max(v, 1e-3)) for v in sample.std(axis=0)]
        targets = {h: self._encode(h, y[h]) for h in heads}
        seed = int(self.random_state) if self.random_state is not None else int(np.random.randint(2**31 - 1))
        self.network_config_ = {"heads": {h: len(self.classes_[h]) for h in heads},
                                "widths": [int(w) for w in self.widths], "blocks": [int(b) for b in self.blocks],
                                "stem_stride": int(self.stem_stride), "dropout": float(self.dropout)}
        with _Threads(self.n_jobs), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = self._build_network()
            self.pretrained_loaded_ = self._load_pretrained(net) if self.pretrained else 0
            validate = None
            if validation_data is not None:
                validate = self._validator(*validation_data)
            freeze = self.freeze_fraction if self.freeze_fraction is not None else (0.2 if self.pretrained else 0.0)
            config = TrainConfig(minutes=float(self.minutes), epochs=self.epochs, batch_size=int(self.batch_size),
                                 learning_rate=float(self.learning_rate), weight_decay=float(self.weight_decay),
                                 warmup=float(self.warmup), label_smoothing=float(self.label_smoothing),
                                 class_balance_power=float(self.class_balance_power),
                                 head_weights=dict(self.head_weights or {}), augment=bool(self.augment),
                                 ema_decay=float(self.ema_decay), precision=self.precision,
                                 channels_last=bool(self.channels_last), freeze_fraction=float(freeze),
                                 validate_from=float(self.validate_from),
                                 low_res_fraction=float(self.low_res_fraction), seed=seed,
                                 verbose=bool(self.verbose),
                                 adaptive_threads=self.n_jobs is None)
            digest = self._fingerprint(X, targets)
            result = train_network(net, X, targets, config, self.mean_, self.std_, validate,
                                   Path(checkpoint_dir) if checkpoint_dir else None, resume, digest)
        self.history_ = result.pop("history")
        self.training_ = result
        self.module_ = net.to(memory_format=torch.contiguous_format).eval()
        self.n_parameters_ = count_parameters(net)
        self.weights_id_ = weights_digest(self.module_)
        self.deployment_files_ = {}
        self.deployment_ = {}
        return self

    @staticmethod
    def _labels_frame(y, n: int) -> pd.DataFrame:
        if not isinstance(y, pd.DataFrame):
            raise ValueError("y must be a frame with columns among " + ", ".join(HEADS))
        if len(y) != n:
            raise ValueError(f"{n} images but {len(y)} label rows")
        cols = [c for c in HEADS if c in y.columns]
        return y[cols].astype(str).replace({"nan": "", "None": ""}).reset_index(drop=True)

    def _encode(self, head: str, values) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes_[head])}
        return np.array([index.get(v, -1) for v in values], dtype=np.int64)

    def _fingerprint(self, X: np.ndarray, targets: dict) -> str:
        """What a checkpoint must match to be resumed: the data and every parameter."""
        # the time budget is not part of it: a resumed run keeps the budget its checkpoint started with
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in ("minutes", "verbose", "n_jobs")}
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
        digest.update(X[:: max(1, len(X) // 500)].tobytes())
        digest.update(str(X.shape).encode())
        for head in sorted(targets):
            digest.update(head.encode() + targets[head].tobytes())
        return digest.hexdigest()

    def _build_network(self) -> ProductNet:
        c = self.network_config_
        return ProductNet(c["heads"], tuple(c["widths"]), tuple(c["blocks"]), c["stem_stride"], c["dropout"])

    def _load_pretrained(self, net: ProductNet) -> int:
        """Copy every tensor of the pretrained weights whose name and shape match; return how many were loaded."""
        from safetensors.torch import load_file

        from niaga.errors import NiagaError

        path = Path(self.pretrained)
        if path.is_dir():
            path = path / WEIGHTS_FILE
        if not path.is_file():
            raise NiagaError(f"{self.pretrained}: pretrained weights not found (a .safetensors file or a niaga "
                             "vision model directory)")
        try:
            tensors = load_file(str(path))
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
            raise NiagaError(f"{path}: not a safetensors weights file ({exc})") from exc
        own = net.state_dict()
        matched = {k: v for k, v in tensors.items() if k in own and own[k].shape == v.shape}
        if not any(not k.startswith("heads.") and v.ndim > 0 for k, v in matched.items()):
            raise NiagaError(f"{path}: no tensor matches this network's layers (widths {self.widths}, "
                             f"blocks {self.blocks}); pretrained weights need the same architecture")
        net.load_state_dict(matched, strict=False)
        return len(matched)

    def _validator(self, X_val, y_val):
        X_val = self._check_images(X_val)
        y_val = self._labels_frame(y_val, len(X_val))
        truth = {h: self._encode(h, y_val[h]) for h in self.classes_ if h in y_val.columns}
        eval_net = self._build_network().eval()

        def validate(state: dict) -> dict:
            eval_net.load_state_dict(state)
            proba = self._proba_with(eval_net, X_val, flip=False)
            scores = {}
            for head, target in truth.items():
                labelled = target >= 0
                scores[f"{head}_accuracy"] = float((proba[head].argmax(1)[labelled] == target[labelled]).mean())
            # the selection score: mean accuracy over the heads (each level of the tree and gender)
            scores["score"] = float(np.mean(list(scores.values())))
            return scores
        return validate

    # -- prediction ------------------------------------------------------------------------------------------
    def _proba_with(self, net: ProductNet, X: np.ndarray, flip: bool) -> dict[str, np.ndarray]:
        mean = torch.tensor(self.mean_, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        std = torch.tensor(self.std_, dtype=torch.float32).view(1, 3, 1, 1) * 255.0
        out = {h: np.zeros((len(X), len(self.classes_[h])), dtype=np.float32) for h in self.classes_}
        with torch.inference_mode():
            for start in range(0, len(X), self.eval_batch_size):
                x = to_input(torch.from_numpy(X[start:start + self.eval_batch_size]), mean, std, False)
                logits = net(x)
                if flip:
                    flipped = net(torch.flip(x, dims=[3]))
                for h in self.classes_:
                    p = torch.softmax(logits[h].float(), dim=1)
                    if flip:
                        p = (p + torch.softmax(flipped[h].float(), dim=1)) / 2
                    out[h][start:start + len(x)] = p.numpy()
        return out

    def predict_proba_levels(self, X) -> dict[str, np.ndarray]:
        """Class probabilities per head (columns in ``classes_[head]`` order), flip-averaged when ``flip_tta``."""
        check_is_fitted(self, ["module_", "classes_"])
        X = self._check_images(X)
        with _Threads(self.n_jobs):
            return self._proba_with(self.module_, X, bool(self.flip_tta))

    @property
    def finest_level_(self) -> str:
        """The deepest level of the tree the model predicts (article, else sub, else master): the estimator's
        class in the scikit-learn sense."""
        check_is_fitted(self, ["classes_"])
        return next(level for level in reversed(LEVELS) if level in self.classes_)

    def predict_proba(self, X) -> np.ndarray:
        """scikit-learn's shape: an (n_images, n_classes) array for the finest level, columns in
        ``classes_[finest_level_]`` order. Every head's probabilities: ``predict_proba_levels``."""
        return self.predict_proba_levels(X)[self.finest_level_]

    def decode(self, proba: dict[str, np.ndarray]) -> pd.DataFrame:
        """Labels and confidences per head from probabilities: tree levels decoded jointly, gender alone."""
        n = len(next(iter(proba.values())))
        frame = {}
        if self.hierarchy_ is not None:
            labels, confidence = self.hierarchy_.decode(proba)
        else:
            labels, confidence = {}, {}
        for head in HEADS:
            if head not in self.classes_:
                continue
            if head not in labels:
                best = proba[head].argmax(axis=1)
                labels[head] = np.asarray(self.classes_[head], dtype=object)[best]
                confidence[head] = proba[head][np.arange(n), best]
            frame[head] = labels[head]
            frame[f"{head}_confidence"] = np.round(confidence[head].astype(float), 4)
        return pd.DataFrame(frame)

    def predict(self, X) -> pd.DataFrame:
        """A frame: per head (master, sub, article, gender, those the model has) the label and its confidence."""
        return self.decode(self.predict_proba_levels(X))

    def embed(self, X) -> np.ndarray:
        """L2-normalized pooled features (n, embedding_dim), flip-averaged when ``flip_tta``: the search vectors."""
        check_is_fitted(self, ["module_"])
        return pooled_features(self.module_, self._check_images(X), self.mean_, self.std_, self.flip_tta,
                               self.eval_batch_size, self.n_jobs)

    # -- saving ----------------------------------------------------------------------------------------------
    def save_artifacts(self, directory: Path) -> None:
        check_is_fitted(self, ["module_", "network_config_"])
        directory = Path(directory)
        super().save_artifacts(directory)
        save_torch_weights(self.module_, directory / WEIGHTS_FILE, self.network_config_)
        for name, data in (getattr(self, "deployment_files_", None) or {}).items():
            (directory / name).write_bytes(data)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "ProductClassifier":
        model = super().load_artifacts(directory, metadata)
        model.module_ = load_torch_weights(model._build_network(), Path(directory) / WEIGHTS_FILE).eval()
        model.deployment_files_ = {}
        model.model_dir_ = str(directory)
        return model

