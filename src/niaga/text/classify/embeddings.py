"""Word vectors for the neural text classifier: loading saved vectors, self-supervised pretraining on the
unlabelled Indonesian text in the shared data, and an on-disk cache keyed by corpus and parameters.

The pretraining corpus is honest under cross-validation: a shared dataset that most training texts come
from is left out whole (with its texts wherever else they appear), so the texts of a held-out fold are
never seen by the embeddings (see ``pretraining_corpus``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

EMBEDDING_ALGORITHMS = ("fasttext", "word2vec")
CACHE_ENV = "NIAGA_CACHE"
#: bump when the way cached vectors are trained changes, so old caches are not reused
CACHE_VERSION = 1
#: a shared dataset holding at least this share of the training texts is the one being trained on
SOURCE_SHARE = 0.5

_VECTOR_MEMO: dict[str, object] = {}  # cache key or path -> vectors, the last few loaded in this process


def default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "niaga") / "embeddings"


def load_vectors(path: str | os.PathLike):
    """gensim KeyedVectors (FastText ones keep their n-grams) from any of the usual saved formats."""
    from gensim.models import KeyedVectors
    from gensim.utils import SaveLoad

    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"pretrained vectors {str(path)!r}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".vec", ".txt"):
        return KeyedVectors.load_word2vec_format(str(path), binary=False)
    if suffix == ".bin":
        from gensim.models.fasttext import load_facebook_vectors
        try:
            return load_facebook_vectors(str(path))
        except Exception:  # not a Facebook fastText file: a word2vec binary
            return KeyedVectors.load_word2vec_format(str(path), binary=True)
    loaded = SaveLoad.load(str(path))
    vectors = getattr(loaded, "wv", loaded)
    if not isinstance(vectors, KeyedVectors):
        raise ValueError(f"pretrained vectors {str(path)!r}: holds a {type(loaded).__name__}, not gensim vectors")
    return vectors


def train_vectors(sentences: list[list[str]], algorithm: str = "fasttext", dim: int = 100, epochs: int = 10,
                  window: int = 5, min_count: int = 2, seed: int = 0, verbose: bool = False):
    """Self-supervised word vectors (CBOW) on tokenized sentences; one worker, so the result is reproducible."""
    from gensim.models import FastText, Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class Progress(CallbackAny2Vec):
        def __init__(self):
            self.bar = tqdm(total=epochs, desc=f"pretraining {algorithm} embeddings", unit="epoch",
                            disable=not verbose, leave=False)

        def on_epoch_end(self, model):
            self.bar.update(1)

        def on_train_end(self, model):
            self.bar.close()

    counts = Counter(w for s in sentences for w in s)
    # a tiny corpus (no data directory, few training texts) would otherwise keep no word at all
    min_count = min_count if sum(c >= min_count for c in counts.values()) >= 50 else 1
    common = dict(vector_size=dim, window=window, min_count=min_count, sg=0, epochs=epochs, workers=1, seed=seed,
                  callbacks=[Progress()])
    if algorithm == "fasttext":
        model = FastText(sentences, bucket=100_000, min_n=3, max_n=5, **common)
    elif algorithm == "word2vec":
        model = Word2Vec(sentences, **common)
    else:
        raise ValueError(f"embedding_algorithm must be one of {EMBEDDING_ALGORITHMS}, got {algorithm!r}")
    return model.wv


def _memo(key: str, vectors) -> None:
    _VECTOR_MEMO[key] = vectors
    while len(_VECTOR_MEMO) > 2:
        _VECTOR_MEMO.pop(next(iter(_VECTOR_MEMO)))


def memoized(key: str):
    return _VECTOR_MEMO.get(key)


def saved_vectors(path: str | os.PathLike):
    """Vectors from a file, loaded once per process."""
    key = f"path:{Path(path).expanduser().resolve()}"
    vectors = _VECTOR_MEMO.get(key)
    if vectors is None:
        vectors = load_vectors(path)
        _memo(key, vectors)
    return vectors


def pretraining_corpus(train_texts: list[str]) -> tuple[list[str], str]:
    """The unlabelled shared texts, without any dataset the training texts come from, plus the training texts
    that are not from such a dataset (a user's own texts). Without a data directory: the training texts alone.

    A dataset is the training data's source when it holds at least ``SOURCE_SHARE`` of the training texts;
    its texts are left out wherever they appear (PRDECT-ID's reviews also sit in the 2019 Tokopedia crawl),
    the training texts from it included. So every cross-validation fold of a shared dataset pretrains on the
    same corpus, which holds none of the dataset's texts: honest for the held-out fold, cached once, and the
    same corpus the final model uses.
    """
    from niaga.config import data_dir

    corpora: dict[str, list[str]] = {}
    if data_dir() is not None:
        from niaga.data.text import unlabelled_corpora

        corpora = unlabelled_corpora()
    train_set = {t for t in train_texts if t}
    left_out = [name for name, texts in corpora.items()
                if train_set and len(train_set.intersection(texts)) >= SOURCE_SHARE * len(train_set)]
    withheld = {t for name in left_out for t in corpora[name]}
    kept = [t for name, texts in corpora.items() if name not in left_out for t in texts if t not in withheld]
    known = set(kept) | withheld
    extra = list(dict.fromkeys(t for t in train_texts if t and t not in known))
    if not kept:
        return extra, f"auto: {len(extra)} training texts"
    return kept + extra, (f"auto: {len(kept)} unlabelled texts + {len(extra)} training texts"
                          + (f" (left out, as the training data's source: {', '.join(left_out)})" if left_out else ""))


def cached_vectors(corpus: list[str], normalizer, algorithm: str, dim: int, epochs: int, cache_dir: str | None,
                   verbose: bool):
    """Vectors pretrained on ``corpus`` (normalized by ``normalizer``), from the memo, the disk cache or trained."""
    params = {"version": CACHE_VERSION, "algorithm": algorithm, "dim": int(dim), "epochs": int(epochs),
              "window": 5, "min_count": 2, "seed": 0,
              "normalizer": repr(sorted(normalizer.get_params(deep=False).items()))}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for text in corpus:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    key = digest.hexdigest()[:24]
    vectors = _VECTOR_MEMO.get(key)
    if vectors is not None:
        return vectors
    from gensim.models import KeyedVectors

    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    path = cache / f"{algorithm}-{dim}d-{key}.kv"
    if path.exists():
        try:
            vectors = KeyedVectors.load(str(path))
        except Exception:  # a corrupt or foreign cache file: train again and overwrite it
            vectors = None
    if vectors is None:
        sentences = [s.split() for s in normalizer.transform(corpus)]
        vectors = train_vectors([s for s in sentences if s], algorithm, int(dim), int(epochs), window=5,
                                min_count=2, seed=0, verbose=verbose)
        try:
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                tmp_path = Path(tmp) / path.name
                vectors.save(str(tmp_path))
                for part in Path(tmp).iterdir():  # the .kv file and any .npy arrays gensim wrote beside it
                    os.replace(part, cache / part.name)
        except OSError:  # a read-only home: the vectors are still used, just not cached
            pass
    _memo(key, vectors)
    return vectors
