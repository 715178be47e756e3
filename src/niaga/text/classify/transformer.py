"""The seed paper's accurate text classifier: fine-tune a pretrained Indonesian BERT (IndoBERT).

A plain PyTorch loop over a Hugging Face sequence-classification model: AdamW with decoupled
weight decay (none on biases and LayerNorm weights), a linear learning-rate schedule with warmup,
cross-entropy, gradient clipping, and dynamic padding (each batch is padded to its own longest
text, not to ``max_length``). Inference batches texts of similar length together, so it pads little.

``model_name`` is a Hugging Face hub id (downloaded once into the hub cache, which needs internet)
or a local directory written by ``save_pretrained``. A saved niaga model keeps the fine-tuned
weights and tokenizer in ``<dir>/hf`` (``save_pretrained`` format, safetensors), never as a pickle.
"""

from __future__ import annotations

import json
import math
import os
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from niaga.errors import ModelLoadError, NiagaError
from niaga.modeling import dump_skops, json_safe, load_skops
from niaga.text.classify.base import TextClassifier
from niaga.text.normalize import TextNormalizer

HF_SUBDIR = "hf"
STATE_FILE = "transformer.json"
NORMALIZER_FILE = "normalizer.skops"


def resolve_device(device: str | None = "auto"):
    """``"auto"`` (or None) is CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    import torch

    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise NiagaError(f"device {device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'")
    return resolved


@contextmanager
def _hf_progress_bars(enabled: bool):
    """Hide transformers' own progress bars (weight loading) unless ``enabled``; restore them after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled and not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled and not enabled:
            hf_logging.enable_progress_bar()


def load_pretrained(model_name: str | os.PathLike, *, num_labels: int | None = None,
                    id2label: dict[int, str] | None = None, label2id: dict[str, int] | None = None,
                    verbose: bool = False, use_safetensors: bool | None = None):
    """The tokenizer and a sequence-classification model from a hub id or a local directory.

    With labels given, the classification head is sized for them (a checkpoint whose head has another
    number of labels gets a freshly initialized head). Failure to load raises a ``NiagaError`` that
    says what to do instead.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    name = str(model_name)
    label_kwargs = {}
    if num_labels is not None:
        label_kwargs = {"num_labels": num_labels, "id2label": id2label, "label2id": label2id,
                        "ignore_mismatched_sizes": True}
    try:
        with _hf_progress_bars(verbose):
            tokenizer = AutoTokenizer.from_pretrained(name)
            model = AutoModelForSequenceClassification.from_pretrained(name, use_safetensors=use_safetensors,
                                                                       **label_kwargs)
    except Exception as exc:  # OSError (not found, offline), ValueError (bad id or config), ...
        # A hub id is "name" or "owner/name"; anything else is meant as a local path.
        looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name \
            or Path(name).expanduser().exists()
        if looks_local and not Path(name).expanduser().is_dir():
            where = f"{name!r} looks like a local path but is not an existing directory"
        elif looks_local:
            where = (f"the directory {name!r} holds no loadable model and tokenizer "
                     "(config.json, weights, tokenizer files)")
        else:
            where = f"{name!r} is neither a local directory nor a hub model that could be downloaded"
        raise NiagaError(
            f"could not load the pretrained weights for {name!r}: {where} ({type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}). Downloading from the "
            "Hugging Face hub needs internet access (and HF_HUB_OFFLINE unset); without it, pass as model_name "
            "a local directory holding a model and tokenizer saved with save_pretrained."
        ) from exc
    if tokenizer.pad_token is None:  # GPT-style tokenizers: pad with the end-of-sequence token
        if tokenizer.eos_token is None:
            raise NiagaError(f"{name!r}: the tokenizer has neither a padding nor an end-of-sequence token")
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


class TransformerTextClassifier(TextClassifier):
    """Fine-tune a pretrained transformer (IndoBERT by default) to classify review text.

    Defaults follow the seed paper: ``indobenchmark/indobert-base-p1``, 5 epochs, batch size 16,
    sequences truncated at 128 tokens, learning rate 5e-5. ``weight_decay`` applies to every weight
    but biases and LayerNorm weights; the learning rate rises linearly over the first ``warmup_ratio``
    of the steps, then falls linearly to 0. ``max_grad_norm`` clips gradients (None: no clipping).

    ``normalizer``: a ``TextNormalizer`` applied before tokenization, or None (the default) to feed raw
    text, which BERT tokenizers handle themselves. The seed paper lowercased and removed emoji and URLs;
    ``TextNormalizer(clean_digits=False, clean_punctuation=False, squash_repeats=False, reduplication=False,
    normalize_slang=False)`` comes close (it also drops @mentions, #hashtags and HTML).
    ``device``: "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". ``verbose``: a tqdm
    progress bar over the training steps of each epoch. ``random_state`` seeds the head's initialization,
    dropout and shuffling without touching torch's global random state.

    Learned state: ``classes_`` (string labels, sorted), ``tokenizer_``, ``model_`` (in eval mode, on
    ``device_``), ``normalizer_`` (or None) and ``history_`` (mean training loss per epoch).
    """

    def __init__(self, model_name: str = "indobenchmark/indobert-base-p1", epochs: int = 5, batch_size: int = 16,
                 eval_batch_size: int = 64, max_length: int = 128, learning_rate: float = 5e-5,
                 weight_decay: float = 0.01, warmup_ratio: float = 0.1, max_grad_norm: float | None = 1.0,
                 normalizer: TextNormalizer | None = None, random_state: int | None = 0, device: str = "auto",
                 verbose: bool = True):
        self.model_name = model_name
        self.epochs = epochs
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.max_length = max_length
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.max_grad_norm = max_grad_norm
        self.normalizer = normalizer
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # -- helpers ---------------------------------------------------------------------------------
    def _check_params(self) -> None:
        self.check_positive_ints("epochs", "batch_size", "eval_batch_size", "max_length")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")

    def _prepare_texts(self, X: Sequence) -> list[str]:
        texts = [t if isinstance(t, str) else "" for t in X]
        normalizer = getattr(self, "normalizer_", None)
        return normalizer.transform(texts) if normalizer is not None else texts

    def _encode(self, texts: list[str]) -> list[dict[str, list[int]]]:
        """Token ids per text, truncated at ``max_length``, not padded."""
        encoded = self.tokenizer_(texts, truncation=True, max_length=self.max_length, padding=False)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
        return [{k: encoded[k][i] for k in keys} for i in range(len(texts))]

    def _collate(self, items: list[dict[str, list[int]]]):
        """Pad a batch to its longest sequence (dynamic padding), on the tokenizer's padding side."""
        import torch

        longest = max(len(item["input_ids"]) for item in items)
        left = getattr(self.tokenizer_, "padding_side", "right") == "left"
        batch = {}
        for key in items[0]:
            fill = self.tokenizer_.pad_token_id if key == "input_ids" else 0
            rows = []
            for item in items:
                seq = list(item[key])
                pad = [fill] * (longest - len(seq))
                rows.append(pad + seq if left else seq + pad)
            batch[key] = torch.tensor(rows, dtype=torch.long, device=self.device_)
        if "attention_mask" not in batch:
            lengths = [len(item["input_ids"]) for item in items]
            mask = [[0] * (longest - n) + [1] * n if left else [1] * n + [0] * (longest - n) for n in lengths]
            batch["attention_mask"] = torch.tensor(mask, dtype=torch.long, device=self.device_)
        return batch

    def _optimizer(self):
        import torch

        decay, no_decay = [], []
        for name, param in self.model_.named_parameters():
            if not param.requires_grad:
                continue
            lowered = name.lower()
            exempt = name.endswith("bias") or "layernorm" in lowered or "layer_norm" in lowered
            (no_decay if exempt else decay).append(param)
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=self.learning_rate)

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X: Sequence[str], y: Sequence):
        import torch

        self._check_params()
        texts, labels = self.check_training_data(X, y)
        self.classes_ = np.unique(labels)
        targets = np.searchsorted(self.classes_, labels)
        self.device_ = resolve_device(self.device)
        self.normalizer_ = clone(self.normalizer).fit() if self.normalizer is not None else None
        texts = self._prepare_texts(texts)

        devices = [self.device_.index if self.device_.index is not None else torch.cuda.current_device()] \
            if self.device_.type == "cuda" else []
        # Seeded: a private copy of torch's random state, restored afterwards. Unseeded: the global one.
        seeded = self.random_state is not None
        with torch.random.fork_rng(devices=devices) if seeded else nullcontext():
            if seeded:
                torch.manual_seed(int(self.random_state))
            id2label = {i: str(label) for i, label in enumerate(self.classes_)}
            self.tokenizer_, self.model_ = load_pretrained(
                self.model_name, num_labels=len(self.classes_), id2label=id2label,
                label2id={label: i for i, label in id2label.items()}, verbose=bool(self.verbose))
            self.model_.to(self.device_)
            self._train(self._encode(texts), targets)
        self.model_.eval()
        return self

    def _train(self, encoded: list[dict[str, list[int]]], targets: np.ndarray) -> None:
        import torch
        from tqdm.auto import tqdm

        n = len(encoded)
        steps_per_epoch = math.ceil(n / self.batch_size)
        total_steps = steps_per_epoch * self.epochs
        warmup_steps = int(round(self.warmup_ratio * total_steps))

        def linear_with_warmup(step: int) -> float:
            if step < warmup_steps:
                return (step + 1) / (warmup_steps + 1)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

        optimizer = self._optimizer()
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_with_warmup)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator()
        if self.random_state is not None:
            generator.manual_seed(int(self.random_state))
        target_tensor = torch.as_tensor(targets, dtype=torch.long)
        self.history_ = []
        self.model_.train()
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=generator).tolist()
            running, seen = 0.0, 0
            progress = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{self.epochs}", unit="step",
                            disable=not self.verbose, leave=True)
            for step in progress:
                index = order[step * self.batch_size:(step + 1) * self.batch_size]
                batch = self._collate([encoded[i] for i in index])
                logits = self.model_(**batch).logits
                loss = loss_fn(logits.float(), target_tensor[index].to(self.device_))
                loss.backward()
                if self.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(self.model_.parameters(), self.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                running += loss.item() * len(index)
                seen += len(index)
                progress.set_postfix(loss=f"{running / seen:.4f}")
            progress.close()
            self.history_.append(running / seen)

    # -- prediction ------------------------------------------------------------------------------
    def predict_logits(self, X: Sequence[str]) -> np.ndarray:
        """Raw classification-head scores, one column per class in ``classes_`` order."""
        import torch

        check_is_fitted(self, ["model_", "tokenizer_", "classes_"])
        texts = self._prepare_texts(X)
        out = np.zeros((len(texts), len(self.classes_)), dtype=np.float32)
        if not texts:
            return out
        encoded = self._encode(texts)
        # Batch texts of similar length together: little padding, same results.
        order = np.argsort([len(item["input_ids"]) for item in encoded], kind="stable")
        self.model_.eval()
        with torch.inference_mode():
            for start in range(0, len(order), self.eval_batch_size):
                index = order[start:start + self.eval_batch_size]
                logits = self.model_(**self._collate([encoded[i] for i in index])).logits
                out[index] = logits.float().cpu().numpy()
        return out

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        logits = self.predict_logits(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    # -- saving ----------------------------------------------------------------------------------
    def save_artifacts(self, directory: Path) -> None:
        """``hf/`` (model and tokenizer via ``save_pretrained``), ``transformer.json`` and, when a
        normalizer was used, ``normalizer.skops``."""
        check_is_fitted(self, ["model_", "tokenizer_", "classes_"])
        directory = Path(directory)
        with _hf_progress_bars(bool(self.verbose)):
            self.model_.save_pretrained(directory / HF_SUBDIR)
            self.tokenizer_.save_pretrained(directory / HF_SUBDIR)
        params = {k: json_safe(os.fspath(v) if isinstance(v, os.PathLike) else v)
                  for k, v in self.get_params(deep=False).items() if k != "normalizer"}
        state = {"classes": [str(c) for c in self.classes_], "params": params,
                 "history": [float(v) for v in getattr(self, "history_", [])],
                 "normalizer": NORMALIZER_FILE if self.normalizer_ is not None else None}
        normalizer_path = directory / NORMALIZER_FILE
        if self.normalizer_ is not None:
            dump_skops(self.normalizer_, normalizer_path)
        elif normalizer_path.exists():
            normalizer_path.unlink()
        (directory / STATE_FILE).write_text(json.dumps(state, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "TransformerTextClassifier":
        directory = Path(directory)
        state_path, hf_dir = directory / STATE_FILE, directory / HF_SUBDIR
        if not state_path.exists():
            raise ModelLoadError(f"{directory}: model.json is there but {STATE_FILE} is missing")
        if not (hf_dir / "config.json").exists():
            raise ModelLoadError(f"{directory}: the fine-tuned checkpoint {HF_SUBDIR}/config.json is missing")
        state = json.loads(state_path.read_text(encoding="utf-8"))
        known = set(cls._get_param_names())
        params = {k: v for k, v in state.get("params", {}).items() if k in known and k != "normalizer"}
        normalizer = None
        if state.get("normalizer"):
            normalizer_path = directory / state["normalizer"]
            if not normalizer_path.exists():
                raise ModelLoadError(f"{directory}: {state['normalizer']} is missing")
            normalizer = load_skops(normalizer_path)
        model = cls(**params, normalizer=clone(normalizer) if normalizer is not None else None)
        model.classes_ = np.asarray(state["classes"], dtype=object)
        model.normalizer_ = normalizer
        model.history_ = list(state.get("history", []))
        model.device_ = resolve_device(model.device if _cuda_request_ok(model.device) else "cpu")
        try:
            model.tokenizer_, model.model_ = load_pretrained(hf_dir, use_safetensors=True)
        except NiagaError as exc:
            raise ModelLoadError(f"{directory}: the fine-tuned checkpoint in {HF_SUBDIR}/ cannot be loaded "
                                 f"({exc.__cause__ or exc})") from exc
        labels = [str(model.model_.config.id2label[i]) for i in range(model.model_.config.num_labels)]
        if labels != list(model.classes_):
            raise ModelLoadError(f"{directory}: {STATE_FILE} lists classes {list(model.classes_)} but the "
                                 f"checkpoint's labels are {labels}")
        model.model_.to(model.device_).eval()
        return model


def _cuda_request_ok(device: str | None) -> bool:
    """A model trained on "cuda" still loads on a machine without one (on the CPU)."""
    import torch

    return device is None or str(device) == "auto" or not str(device).startswith("cuda") or torch.cuda.is_available()
