"""Review emotion and sentiment: the shared text classifiers of ``niaga.text.classify`` applied to Indonesian
reviews (TF-IDF, neural, transformer), saved and checked as "reviews" models."""
