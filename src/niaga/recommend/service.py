"""The old name of ``niaga.recommend.pipeline`` (the use cases), kept for one release."""

from niaga.recommend.pipeline import *  # noqa: F401,F403
