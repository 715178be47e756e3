"""Recommendations: "Produk untuk Anda", "Sering Dibeli Bersama", cross-sell and cold start (seed 000).

One algorithm per module behind ``base.RecommenderBase`` (popularity, repeat, cooccurrence, als, sasrec,
content), composed by ``blender.Blender``; ``data`` reads sequences, invoices and baskets into one shape;
``evaluate`` holds the splits, the ranking metrics and the report; ``service`` is what the CLI (and an API)
calls. See docs/recommend.md.
"""

# Names the CLI offers as choices, kept here so that building the parser imports no heavy library.
FORMATS = ("sequences", "invoices", "baskets")
PROTOCOLS = ("leave-one-out", "last-invoice", "time")
MODELS = ("popularity", "repeat", "cooccurrence", "als", "content", "sasrec", "basket")
