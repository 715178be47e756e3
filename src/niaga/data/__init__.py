"""Shared data access: the data directory, dataset loaders, and table I/O with clear errors."""
