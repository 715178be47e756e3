"""Seed 001 reproduced: Yunas & Yusra's SVM-RBF classifier of e-commerce transaction tweets.

Preprocessing in the paper's order (case folding; URLs, @mentions, #hashtags, HTML, emoticons, digits
and punctuation to spaces; tokens on spaces; dictionary normalization; removal of conjunctions; ECS
stemming), unigrams whose document frequency in the training set is at least ``min_df`` (the paper: 16),
TF-IDF with IDF from the training documents only, and LibSVM's RBF SVM (scikit-learn's ``SVC`` wraps
LibSVM). A text that keeps no feature after the threshold has an all-zero vector: the paper left such
tweets out of its test (it scored 138 of 200); here they are counted (``n_featureless``) and classified by
the fallback, the training set's majority class, which the report names.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

from niaga.text.classify.base import TextClassifier
from niaga.text.features import CompactTfidfVectorizer
from niaga.text.normalize import TextNormalizer

#: Indonesian conjunctions (kata hubung), the only stopwords the paper removes. Not "sampai": in these
#: posts it is mostly the verb "arrive" ("paket belum sampai"), not "until".
CONJUNCTIONS = (
    "dan", "serta", "atau", "tetapi", "tapi", "namun", "melainkan", "sedangkan", "padahal", "lalu", "kemudian",
    "karena", "sebab", "jika", "kalau", "jikalau", "apabila", "bila", "agar", "supaya", "sehingga", "maka",
    "bahwa", "walaupun", "meskipun", "walau", "meski", "biarpun", "ketika", "sewaktu", "sejak", "setelah",
    "sesudah", "sebelum", "sambil", "seraya", "hingga", "yaitu", "yakni", "bahkan", "apalagi",
    "maupun", "baik", "lagipula", "jadi", "seolah", "seakan", "daripada", "andaikan", "asalkan", "selagi",
    "selama", "tatkala", "demi", "seperti", "sebagaimana",
)

FALLBACK = "majority training class"


def paper_normalizer() -> TextNormalizer:
    """The paper's preprocessing: everything cleaned to spaces, slang dictionary, conjunctions out, ECS stemming."""
    return TextNormalizer(emoji="drop", clean_digits=True, clean_punctuation=True, normalize_slang=True,
                          remove_stopwords=True, keep_negations=False, stopwords=CONJUNCTIONS, stem=True)


def document_frequency_curve(documents: Sequence[str], thresholds: Sequence[int] = range(1, 51)) -> dict[int, int]:
    """How many distinct words have document frequency ≥ t, for each threshold t (the paper's Figure 3)."""
    df: dict[str, int] = {}
    for doc in documents:
        for word in set(doc.split()):
            df[word] = df.get(word, 0) + 1
    counts = np.fromiter(df.values(), dtype=int, count=len(df))
    return {int(t): int((counts >= t).sum()) for t in thresholds}


def paper_vectorizer(min_df: int = 16) -> CompactTfidfVectorizer:
    """Unigrams on whitespace tokens with document frequency ≥ ``min_df``; IDF from the documents it is fitted on.

    ``\\S+`` tokens are ``str.split``'s, as a pattern rather than a function so the fitted model saves as data."""
    return CompactTfidfVectorizer(min_df=min_df, token_pattern=r"\S+", lowercase=False, dtype=np.float64)


class PaperSVMClassifier(TextClassifier):
    """Unigram TF-IDF (DF threshold on the training set) + RBF SVM, as in seed 001.

    ``normalized_input=True`` skips preprocessing (for the grid search, which normalizes once).
    """

    task = "social"

    def __init__(self, min_df: int = 16, C: float = 0.9, gamma: float = 0.8, normalized_input: bool = False,
                 random_state: int = 0):
        self.min_df = min_df
        self.C = C
        self.gamma = gamma
        self.normalized_input = normalized_input
        self.random_state = random_state

    def _normalize(self, X: Sequence) -> list[str]:
        texts = [t if isinstance(t, str) else "" for t in X]
        return texts if self.normalized_input else self.normalizer_.transform(texts)

    def fit(self, X: Sequence[str], y: Sequence):
        texts, labels = self.check_training_data(X, y)
        self.check_positive_ints("min_df")
        self.normalizer_ = paper_normalizer().fit()
        normalized = self._normalize(texts)
        self.vectorizer_ = paper_vectorizer(self.min_df)
        try:
            features = self.vectorizer_.fit_transform(normalized)
        except ValueError as exc:  # no word reaches the threshold
            raise ValueError(f"no word has document frequency ≥ min_df={self.min_df} in {len(texts)} texts") from exc
        # Platt scaling on out-of-fold decision values gives the confidence column; the label itself comes
        # from the SVM's decision function (fitted on all training texts), as the paper's LibSVM predicted.
        folds = min(5, int(np.unique(labels, return_counts=True)[1].min()))
        self.calibrated_ = CalibratedClassifierCV(SVC(kernel="rbf", C=self.C, gamma=self.gamma), cv=folds,
                                                  ensemble=False).fit(features, labels)
        self.svm_ = self.calibrated_.calibrated_classifiers_[0].estimator
        self.classes_ = self.calibrated_.classes_
        values, counts = np.unique(labels, return_counts=True)
        self.fallback_label_ = values[np.argmax(counts)]
        return self

    def featureless(self, X: Sequence[str]) -> np.ndarray:
        """True for texts that keep no feature after the DF threshold."""
        return self.vectorizer_.transform(self._normalize(X)).getnnz(axis=1) == 0

    def predict_and_proba(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        features = self.vectorizer_.transform(self._normalize(X))
        labels = self.svm_.predict(features).astype(object)
        proba = self.calibrated_.predict_proba(features)
        empty = features.getnnz(axis=1) == 0
        labels[empty] = self.fallback_label_
        proba[empty] = (self.classes_ == self.fallback_label_).astype(float)
        return labels, proba

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return self.predict_and_proba(X)[1]
