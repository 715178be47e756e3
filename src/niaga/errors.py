"""Errors a user can act on. The CLI prints them on one line and exits with code 2."""


class NiagaError(Exception):
    """Base class for every error caused by input the user gave (files, columns, models)."""


class DataError(NiagaError):
    """A data file is missing, unreadable, or lacks an expected column."""


class ModelLoadError(NiagaError):
    """A directory is not a niaga model, or was saved by an incompatible version or for another task."""
