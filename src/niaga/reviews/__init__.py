"""Review emotion and sentiment: classifiers of Indonesian review text (TF-IDF, neural, transformer)."""
