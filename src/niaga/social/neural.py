"""The neural post classifier (in its own module so the rest of niaga.social loads without PyTorch)."""

from niaga.reviews.neural import NeuralTextClassifier


class NeuralPostClassifier(NeuralTextClassifier):
    """The reviews issue's BiLSTM with FastText embeddings pretrained on the unlabelled Indonesian text."""

    task = "social"
