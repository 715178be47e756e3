"""A neural text classifier trained from scratch in PyTorch, on word embeddings pretrained on Indonesian text.

The network reads the normalized words of a review through an embedding layer and either a bidirectional
LSTM (the textbook's choice; default) or a 1-D CNN, pools over the words (max and mean for the BiLSTM,
max for the CNN) and classifies with one linear layer. Training: Adam, cross-entropy (optionally
class-weighted), dropout on the embeddings and the pooled features, word dropout (a random share of
training words is replaced by the unknown-word token, so the network learns to cope with words it has
never seen), gradient clipping, and early stopping on the macro-F1 of a stratified validation slice
(the weights of the best epoch are kept).

Self-supervised pretraining: ``pretrained="auto"`` trains gensim FastText (or Word2Vec) embeddings on
the unlabelled training-portion Indonesian text in the shared data, normalized the same way as the reviews,
and initialises the embedding layer with them. A shared dataset the training texts come from is left out of
that corpus, so cross-validation stays honest (``embeddings.pretraining_corpus``). The vectors are cached
on disk (``~/.cache/niaga/embeddings`` or ``$NIAGA_CACHE/embeddings``), keyed by a hash of the corpus and the
embedding parameters, so the next fit (another fold, another seed) loads them in a second. Without a data directory the embeddings are trained
on the training texts only. ``pretrained`` may also be a path to saved gensim vectors or model
(``KeyedVectors.save``, ``FastText.save``, ``Word2Vec.save``), a word2vec text file (.vec, .txt) or a
Facebook fastText .bin. With FastText vectors, training words too rare to have their own vector get one
from their character n-grams.

The vocabulary is the training words plus the most frequent words of the pretrained vectors (up to
``max_vocab``), so a review word seen only in the unlabelled text still has a meaningful vector. Words
outside it map to one unknown-word index. A fitted model keeps its network as ``module_`` (a
``torch.nn.Module`` on the CPU), saved as safetensors weights beside the rest of the model.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted
from torch import nn
from tqdm.auto import tqdm

from niaga.modeling import load_torch_weights, save_torch_weights
from niaga.text.classify.base import TextClassifier
from niaga.text.classify.embeddings import (EMBEDDING_ALGORITHMS, cached_vectors, pretraining_corpus,
                                            saved_vectors)
from niaga.text.classify.network import ARCHITECTURES, PAD, UNK, TextNetwork
from niaga.text.normalize import TextNormalizer

WEIGHTS_FILE = "network.safetensors"


@contextlib.contextmanager
def _torch_threads(n: int | None):
    """Run with ``n`` torch threads (None: leave torch's setting), then restore the previous setting."""
    if not n:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# -- the classifier --------------------------------------------------------------------------------------

class NeuralTextClassifier(TextClassifier):
    """Normalize, look words up in an embedding pretrained on Indonesian text, classify with a BiLSTM or a CNN.

    ``pretrained``: "auto" (train FastText/Word2Vec vectors on the unlabelled shared data and the training
    texts, cached on disk), "none" (random embeddings learned from the labelled data only) or a path to
    saved vectors; with a path the embedding size is the vectors' own and ``embedding_dim`` is not used.
    ``embedding_algorithm``, ``embedding_dim``, ``pretrain_epochs``: how "auto" trains its vectors.
    ``freeze_embeddings``: keep pretrained vectors fixed instead of fine-tuning them.
    ``architecture``: "bilstm" (``hidden_size`` units each way, ``num_layers``) or "cnn" (``num_filters``
    per width in ``kernel_sizes``). ``min_count``: a training word needs this many occurrences to get its own
    embedding (when pretrained vectors cover it, one is enough). ``max_vocab``: cap on the vocabulary.
    ``max_length``: words kept per text. ``word_dropout``: share of training words replaced by the unknown token.
    ``class_weight``: "balanced" weighs the loss inversely to class frequency; None does not.
    ``validation_fraction``: the stratified share of the training data held out for early stopping (0: none,
    train ``max_epochs``); ``fit(..., validation_data=(X_val, y_val))`` uses a given set instead.
    ``patience``: epochs without a better validation macro-F1 before stopping. ``n_jobs``: torch threads
    during fit and predict (None: torch's current setting). ``verbose``: tqdm progress over the epochs.
    ``random_state`` seeds initialization, dropout, shuffling and the validation split without touching
    torch's global random state; the same value gives the same model.

    Learned state: ``classes_``, ``normalizer_``, ``vocabulary_`` (word -> row of the embedding), ``module_``
    (the network, in eval mode, on the CPU), ``network_config_`` (its shape, to rebuild it on load),
    ``history_`` (per epoch: training loss, validation loss and
    macro-F1), ``best_epoch_``, ``embedding_source_`` and ``pretrained_coverage_`` (share of training words
    with a pretrained vector).
    """

    compact_state = ("vocabulary_",)
    external_state = ("module_",)  # saved as safetensors weights, rebuilt from network_config_

    def __init__(self, pretrained: str = "auto", embedding_algorithm: str = "fasttext", embedding_dim: int = 100,
                 pretrain_epochs: int = 10, freeze_embeddings: bool = False, architecture: str = "bilstm",
                 hidden_size: int = 128, num_layers: int = 1, kernel_sizes: tuple[int, ...] = (2, 3, 4),
                 num_filters: int = 128, dropout: float = 0.5, embedding_dropout: float = 0.2,
                 word_dropout: float = 0.1, min_count: int = 2, max_vocab: int = 50_000, max_length: int = 128,
                 batch_size: int = 32, eval_batch_size: int = 256, learning_rate: float = 2e-3,
                 weight_decay: float = 0.0, max_epochs: int = 20, patience: int = 3,
                 validation_fraction: float = 0.1, class_weight: str | None = "balanced",
                 normalizer: TextNormalizer | None = None, cache_dir: str | None = None, n_jobs: int | None = None,
                 random_state: int | None = 0, verbose: bool = True):
        self.pretrained = pretrained
        self.embedding_algorithm = embedding_algorithm
        self.embedding_dim = embedding_dim
        self.pretrain_epochs = pretrain_epochs
        self.freeze_embeddings = freeze_embeddings
        self.architecture = architecture
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.kernel_sizes = kernel_sizes
        self.num_filters = num_filters
        self.dropout = dropout
        self.embedding_dropout = embedding_dropout
        self.word_dropout = word_dropout
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.max_length = max_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.normalizer = normalizer
        self.cache_dir = cache_dir
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- checks ----------------------------------------------------------------------------------
    def _check_params(self) -> None:
        self.check_positive_ints("embedding_dim", "pretrain_epochs", "hidden_size", "num_layers", "num_filters",
                                 "min_count", "max_vocab", "max_length", "batch_size", "eval_batch_size", "max_epochs",
                                 "patience")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if self.embedding_algorithm not in EMBEDDING_ALGORITHMS:
            raise ValueError(f"embedding_algorithm must be one of {EMBEDDING_ALGORITHMS}, "
                             f"got {self.embedding_algorithm!r}")
        if not isinstance(self.pretrained, (str, os.PathLike)):
            raise ValueError(f"pretrained must be 'auto', 'none' or a path, got {self.pretrained!r}")
        for name in ("dropout", "embedding_dropout", "word_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if self.architecture == "cnn" and (not self.kernel_sizes or min(self.kernel_sizes) < 1):
            raise ValueError(f"kernel_sizes must be positive widths, got {self.kernel_sizes!r}")

    # -- text to ids -----------------------------------------------------------------------------
    def _tokenize(self, X: Sequence) -> list[list[str]]:
        texts = [t if isinstance(t, str) else "" for t in X]
        return [s.split()[:self.max_length] for s in self.normalizer_.transform(texts)]

    def _encode(self, tokens: list[list[str]]) -> list[np.ndarray]:
        vocabulary = self.vocabulary_
        return [np.asarray([vocabulary.get(w, UNK) for w in words] or [UNK], dtype=np.int64) for words in tokens]

    @staticmethod
    def _batch(encoded: list[np.ndarray], index) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [encoded[i] for i in index]
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        ids = np.full((len(rows), int(lengths.max())), PAD, dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
        return torch.from_numpy(ids), torch.from_numpy(lengths)

    # -- pretrained vectors ----------------------------------------------------------------------
    def _vectors(self, train_texts: list[str]):
        """The pretrained vectors to initialise the embedding with (None for "none") and where they came from."""
        source = str(self.pretrained)
        if source == "none":
            return None, "none"
        if source != "auto":
            return saved_vectors(source), source
        corpus, description = pretraining_corpus(train_texts)
        vectors = cached_vectors(corpus, self.normalizer_, self.embedding_algorithm, int(self.embedding_dim),
                                 int(self.pretrain_epochs), self.cache_dir, bool(self.verbose))
        return vectors, description

    def _build_vocabulary(self, tokens: list[list[str]], vectors) -> tuple[dict[str, int], np.ndarray | None, float]:
        """word -> row, the initial embedding matrix (None: random) and the share of training words covered."""
        counts = Counter(w for words in tokens for w in words)
        has_vector = (lambda w: False) if vectors is None else \
            (lambda w: w in vectors.key_to_index or hasattr(vectors, "vectors_ngrams"))
        min_count = self.min_count if len(tokens) >= 50 else 1  # tiny training sets would keep no word
        words = [w for w, c in counts.most_common() if c >= min_count or has_vector(w)]
        words = words[:self.max_vocab - 2]
        if vectors is not None:
            seen = set(words)
            for w in vectors.index_to_key:  # most frequent first
                if len(words) >= self.max_vocab - 2:
                    break
                if w not in seen:
                    words.append(w)
                    seen.add(w)
        vocabulary = {w: i + 2 for i, w in enumerate(words)}
        total = sum(counts.values())
        if vectors is None:
            return vocabulary, None, 0.0
        covered = sum(c for w, c in counts.items() if has_vector(w))
        rng = np.random.RandomState(self.random_state)
        scale = float(np.std(vectors.vectors[:10_000])) if len(vectors.index_to_key) else 0.1
        matrix = rng.normal(0.0, scale, size=(len(vocabulary) + 2, vectors.vector_size)).astype(np.float32)
        matrix[PAD] = 0.0
        for w, i in vocabulary.items():
            if has_vector(w):
                matrix[i] = vectors[w]
        return vocabulary, matrix, covered / max(total, 1)

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X: Sequence[str], y: Sequence, validation_data: tuple[Sequence[str], Sequence] | None = None):
        """Train; ``validation_data=(X_val, y_val)`` early-stops on that set instead of a slice of (X, y)."""
        self._check_params()
        texts, labels = self.check_training_data(X, y)
        self.classes_ = np.unique(labels)
        targets = np.searchsorted(self.classes_, labels)
        self.normalizer_ = clone(self.normalizer) if self.normalizer is not None else TextNormalizer()
        self.normalizer_.fit()
        seed = int(self.random_state) if self.random_state is not None else int(np.random.randint(2**31 - 1))

        train_idx, val_tokens, val_targets = np.arange(len(texts)), None, None
        if validation_data is not None:
            val_x, val_y = validation_data
            val_labels = np.asarray([str(v) for v in val_y], dtype=object)
            unknown = sorted(set(val_labels) - set(self.classes_))
            if unknown:
                raise ValueError(f"validation_data has labels the training data lacks: {unknown}")
            val_tokens, val_targets = val_x, np.searchsorted(self.classes_, val_labels)
        elif self.validation_fraction > 0:
            n_val = int(round(self.validation_fraction * len(texts)))
            if n_val >= len(self.classes_) and len(texts) - n_val >= len(self.classes_) \
                    and np.bincount(targets).min() >= 2:
                train_idx, val_idx = train_test_split(np.arange(len(texts)), test_size=n_val, stratify=targets,
                                                      random_state=seed)
                val_tokens, val_targets = [texts[i] for i in val_idx], targets[val_idx]

        with _torch_threads(self.n_jobs):
            vectors, self.embedding_source_ = self._vectors(texts)
            tokens = self._tokenize(texts)
            self.vocabulary_, matrix, self.pretrained_coverage_ = self._build_vocabulary(
                [tokens[i] for i in train_idx], vectors)
            encoded = self._encode(tokens)
            val_encoded = self._encode(self._tokenize(val_tokens)) if val_tokens is not None else None
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                dim = matrix.shape[1] if matrix is not None else int(self.embedding_dim)
                self.network_config_ = {
                    "vocab_size": len(self.vocabulary_) + 2, "embedding_dim": int(dim), "n_classes": len(self.classes_),
                    "architecture": self.architecture, "hidden_size": int(self.hidden_size),
                    "num_layers": int(self.num_layers), "kernel_sizes": [int(k) for k in self.kernel_sizes],
                    "num_filters": int(self.num_filters), "dropout": float(self.dropout),
                    "embedding_dropout": float(self.embedding_dropout)}
                self.module_ = TextNetwork(**self.network_config_)
                if matrix is not None:
                    with torch.no_grad():
                        self.module_.embedding.weight.copy_(torch.from_numpy(matrix))
                    self.module_.embedding.weight.requires_grad_(not self.freeze_embeddings)
                self._train([encoded[i] for i in train_idx], targets[train_idx], val_encoded, val_targets, seed)
        self.module_.eval()
        return self

    def _train(self, encoded: list[np.ndarray], targets: np.ndarray, val_encoded: list[np.ndarray] | None,
               val_targets: np.ndarray | None, seed: int) -> None:
        module = self.module_
        n_classes = len(self.classes_)
        weight = None
        if self.class_weight == "balanced":
            counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
            weight = torch.tensor(len(targets) / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
        loss_fn = nn.CrossEntropyLoss(weight=weight)
        optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=self.learning_rate,
                                     weight_decay=self.weight_decay)
        rng = np.random.RandomState(seed)
        target_tensor = torch.as_tensor(targets, dtype=torch.long)
        self.history_, self.best_epoch_ = [], None
        best_score, best_state, stale = None, None, 0
        progress = tqdm(range(self.max_epochs), desc="training", unit="epoch", disable=not self.verbose, leave=False)
        for epoch in progress:
            module.train()
            order = rng.permutation(len(encoded))
            running = 0.0
            for start in range(0, len(order), self.batch_size):
                index = order[start:start + self.batch_size]
                ids, lengths = self._batch(encoded, index)
                if self.word_dropout > 0:
                    drop = torch.from_numpy(rng.random_sample(ids.shape) < self.word_dropout) & (ids != PAD)
                    ids = ids.masked_fill(drop, UNK)
                loss = loss_fn(module(ids, lengths), target_tensor[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(module.parameters(), 5.0)
                optimizer.step()
                running += loss.item() * len(index)
            record = {"epoch": epoch + 1, "train_loss": running / len(encoded)}
            if val_encoded is not None:
                logits = self._logits(val_encoded)
                val_loss = float(nn.functional.cross_entropy(torch.from_numpy(logits),
                                                             torch.as_tensor(val_targets, dtype=torch.long)))
                val_f1 = float(f1_score(val_targets, logits.argmax(axis=1), average="macro",
                                        labels=np.arange(n_classes), zero_division=0))
                record.update(val_loss=val_loss, val_f1_macro=val_f1)
                score = (val_f1, -val_loss)
                if best_score is None or score > best_score:
                    best_score, stale, self.best_epoch_ = score, 0, epoch + 1
                    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                else:
                    stale += 1
                progress.set_postfix(loss=f"{record['train_loss']:.4f}", val_f1=f"{val_f1:.4f}")
            else:
                progress.set_postfix(loss=f"{record['train_loss']:.4f}")
            self.history_.append(record)
            if val_encoded is not None and stale >= self.patience:
                break
        progress.close()
        if best_state is not None:
            module.load_state_dict(best_state)
        else:
            self.best_epoch_ = len(self.history_)

    # -- prediction ------------------------------------------------------------------------------
    def _logits(self, encoded: list[np.ndarray]) -> np.ndarray:
        """Logits in input order, batched by similar length so little padding is computed."""
        out = np.zeros((len(encoded), len(self.classes_)), dtype=np.float32)
        if not encoded:
            return out
        order = np.argsort([len(e) for e in encoded], kind="stable")
        self.module_.eval()
        with torch.inference_mode():
            for start in range(0, len(order), self.eval_batch_size):
                index = order[start:start + self.eval_batch_size]
                out[index] = self.module_(*self._batch(encoded, index)).numpy()
        return out

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """The network's logits, one column per class in ``classes_`` order."""
        check_is_fitted(self, ["module_", "vocabulary_", "classes_"])
        with _torch_threads(self.n_jobs):
            return self._logits(self._encode(self._tokenize(X)))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        logits = self.decision_function(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    # -- saving ----------------------------------------------------------------------------------
    def save_artifacts(self, directory: Path) -> None:
        check_is_fitted(self, ["module_", "network_config_"])
        super().save_artifacts(directory)
        save_torch_weights(self.module_, Path(directory) / WEIGHTS_FILE, self.network_config_)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "NeuralTextClassifier":
        model = super().load_artifacts(directory, metadata)
        model.module_ = load_torch_weights(TextNetwork(**model.network_config_), Path(directory) / WEIGHTS_FILE).eval()
        return model
