"""Marketplace abuse: account takeover, promo-abuse rings, refund abuse, brushing, fake sellers."""
