"""Information extraction from Indonesian commerce text: goods price, other amounts with their role,
payment method, quantity and product, each with the character span it was read from.

``price`` holds only what the item in the text costs or cost the writer; every other amount goes to
``other_amounts`` with its role (shipping, cashback, refund, a comparison with another shop, a
hypothetical "kalau 10 ribu", a lost-parcel value, a public budget, ...). Rules, not a model: every
decision can be traced to a word list in ``resources/commerce_extraction.yaml``. The rules are
hand-written because no library parses Indonesian money ("1,5jt", "100rban", "harga 45", "goceng");
the work is split by job:

- ``extract_lexicon``: the word lists and the word tokens;
- ``extract_amounts``: money in its written forms;
- ``extract_roles``: whose price it is (the role of each amount);
- ``extract_payments``: payment methods and their false friends;
- ``extract_items``: quantity and product.

The hand-labelled texts they are measured on are in ``benchmarks/data/extraction_dev.csv``
(``benchmarks/social_extract.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from niaga.data.io import require_columns
from niaga.social.extract_amounts import money_amounts
from niaga.social.extract_items import product as _product
from niaga.social.extract_items import quantity as _quantity
from niaga.social.extract_lexicon import Span, Tokens, in_words, lexicon
from niaga.social.extract_payments import payments as _payments
from niaga.social.extract_roles import role

# A letter written three times or more ("sampeeee"): read once.
ELONGATED = re.compile(r"(\w)\1{2,}")

__all__ = ["Amount", "Extraction", "EXTRACTION_COLUMNS", "extract", "extract_frame", "extraction_row", "lexicon"]


@dataclass
class Amount:
    kind: str
    value: int
    span: Span


@dataclass
class Extraction:
    """What one text says about a purchase. Spans index the original text: ``text[start:end]``."""

    price: list[int] = field(default_factory=list)
    price_spans: list[Span] = field(default_factory=list)
    payment_methods: list[str] = field(default_factory=list)
    payment_spans: list[Span] = field(default_factory=list)
    quantity: int | None = None
    quantity_span: Span | None = None
    product: str | None = None
    product_span: Span | None = None
    other_amounts: list[tuple[str, int, Span]] = field(default_factory=list)


def amounts(text: str, tokens: Tokens | None = None) -> list[Amount]:
    """Every money amount in the text with its role, in order."""
    tokens = tokens or Tokens(text)
    joiner = lexicon()["list_joiner_re"]
    out: list[Amount] = []
    for money in money_amounts(text, tokens):
        previous = out[-1] if out else None
        joined = bool(previous) and re.fullmatch(joiner, text[previous.span[1]: money.span[0]], re.I) is not None
        kind = role(tokens, money.span, money.value, (previous.kind, joined) if previous else None, money.range_end,
                    previous.span[1] if previous else -1)
        out.append(Amount(kind, money.value, money.span))
    return out


def extract(text: str) -> Extraction:
    """Price, other amounts, payment methods, quantity and product named in one text."""
    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, got {type(text).__name__}")
    tokens = Tokens(text)
    out = Extraction()
    found = amounts(text, tokens)
    for amount in found:
        if amount.kind == "price":
            out.price.append(amount.value)
            out.price_spans.append(amount.span)
        else:
            out.other_amounts.append((amount.kind, amount.value, amount.span))
    commerce = bool(found) or _about_buying(tokens)
    for name, span in _payments(text, tokens, commerce):
        if name not in out.payment_methods:
            out.payment_methods.append(name)
            out.payment_spans.append(span)
    quantity = _quantity(text, [a.span for a in found])
    if quantity:
        out.quantity, out.quantity_span = quantity
    product = _product(text, tokens)
    if product:
        out.product, out.product_span = product
    return out


def _about_buying(tokens: Tokens) -> bool:
    """Whether the text names a commerce word ("beli", "pesanan", "sampeeee"), not counting the phrases that
    only contain one ("terima kasih": thanks)."""
    lex = lexicon()
    words = tokens.words
    for i, word in enumerate(words):
        if " ".join(words[i:i + 2]) in lex["not_commerce_phrases"]:
            continue
        if in_words(ELONGATED.sub(r"\1", word), lex["commerce_words"]):
            return True
    return False


EXTRACTION_COLUMNS = ["price", "price_span", "payment_method", "payment_span", "quantity", "product",
                      "other_amounts", "error"]


def extraction_row(text) -> dict:
    """One output row of extract_frame: '; '-joined values, spans as the text they cover."""
    if not isinstance(text, str) or not text.strip():
        reason = "empty text" if isinstance(text, str) or text is None or pd.isna(text) else \
            f"not text ({type(text).__name__})"
        return {**{c: "" for c in EXTRACTION_COLUMNS}, "error": reason}
    result = extract(text)
    return {
        "price": "; ".join(map(str, result.price)),
        "price_span": "; ".join(text[a:b] for a, b in result.price_spans),
        "payment_method": "; ".join(result.payment_methods),
        "payment_span": "; ".join(text[a:b] for a, b in result.payment_spans),
        "quantity": "" if result.quantity is None else str(result.quantity),
        "product": result.product or "",
        "other_amounts": "; ".join(f"{kind}={value}" for kind, value, _ in result.other_amounts),
        "error": "",
    }


def extract_frame(frame: pd.DataFrame, text_col: str, source: str = "input") -> pd.DataFrame:
    """The input columns plus the extraction columns; empty or non-text cells get an error, never dropped."""
    require_columns(frame, [text_col], source)
    rows = [extraction_row(text) for text in frame[text_col].tolist()]
    extracted = pd.DataFrame(rows, columns=EXTRACTION_COLUMNS, index=frame.index)
    return pd.concat([frame.drop(columns=[c for c in EXTRACTION_COLUMNS if c in frame.columns]), extracted], axis=1)
