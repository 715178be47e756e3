import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from niaga.text.features import CachedCharWbTfidfVectorizer

DOCS = ["barang bagus sekali", "pengiriman cepat, barang bagus!", "kecewa  barang rusak", "bagus bagus bagus",
        "", "x"]


def test_cached_char_wb_equals_sklearn_exactly():
    params = dict(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, max_features=60,
                  dtype=np.float32)
    ours = CachedCharWbTfidfVectorizer(**params).fit(DOCS)
    theirs = TfidfVectorizer(**params).fit(DOCS)
    new = ["barang baru bagus", "rusak", "", "qqq zzz"]
    for docs in (DOCS, new, new):  # the third pass is served from the word cache
        a, b = ours.transform(docs), theirs.transform(docs)
        assert a.shape == b.shape and abs(a - b).max() < 1e-6
