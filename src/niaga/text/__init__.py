"""Indonesian text normalization: cleaning, slang, stopwords and stemming for every text capability."""

from niaga.text.normalize import TextNormalizer

__all__ = ["TextNormalizer"]
