"""One router per capability; ``ROUTERS`` is what the app mounts under /api/v1."""

from niaga.serve.routers import customers, reviews, social, text

ROUTERS = [text.router, reviews.router, social.router, customers.router]
