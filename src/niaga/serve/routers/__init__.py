"""One router per capability; ``ROUTERS`` is what the app mounts under /api/v1."""

from niaga.serve.routers import (abuse, customers, experiments, forecast, fraud, ingest, recommend, reviews, social,
                                 text, vision)

ROUTERS = [text.router, reviews.router, social.router, fraud.router, customers.router, recommend.router,
           vision.router, experiments.router, forecast.router, abuse.router, ingest.router]
