"""Indonesian text normalization (cleaning, slang, stopwords, stemming) and the text classifiers every text
capability uses (``niaga.text.classify``)."""

__all__ = ["TextNormalizer"]


def __getattr__(name: str):
    # Lazy, so `niaga --help` and the CLI's start do not pay for scikit-learn before a command needs it.
    if name == "TextNormalizer":
        from niaga.text.normalize import TextNormalizer

        return TextNormalizer
    raise AttributeError(f"module 'niaga.text' has no attribute {name!r}")
