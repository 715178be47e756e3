"""What was bought: the quantity ("2 pcs", "dua paket", "beli 3", "x2") and the product ("beli kaos
polos"), each with its span. Word lists in ``resources/commerce_extraction.yaml``."""

from __future__ import annotations

import re

from niaga.social.extract_lexicon import Span, Tokens, lexicon


def quantity(text: str, money: list[Span]) -> tuple[int, Span] | None:
    """The first count of items: "2 pcs", "dua paket", "beli 3", "x2" (not "2x beli", "1 x 6 jam")."""
    lex = lexicon()
    units = "|".join(sorted(lex["quantity_units"], key=len, reverse=True))
    verbs = "|".join(lex["quantity_verbs"])
    words = "|".join(w for w in lex["number_words"] if w != "se")
    not_time = rf"(?!\s*(?:{'|'.join(lex['quantity_not_followed_by'])}|[.:/]\d))"
    patterns = [rf"(?<![\w,/])(?<!\d\.)(?P<n>\d{{1,3}}|{words})\s?(?:{units})(?:ku|nya|an)?\b",
                rf"\b(?:{verbs})\s+(?P<n>\d{{1,3}}|{words})\b{not_time}",
                rf"(?<![\w])x\s?(?P<n>\d{{1,2}})\b{not_time}"]
    best = None
    for pattern in patterns:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if any(a <= match.start("n") < b for a, b in money):
                continue
            raw = match.group("n").lower()
            value = int(raw) if raw.isdigit() else lex["number_words"].get(raw)
            if value and (best is None or match.start() < best[1][0]):
                best = (value, match.span("n"))
            break
    return best


def product(text: str, tokens: Tokens) -> tuple[str, Span] | None:
    """The first words (up to four) after a buying verb, before a stop word or punctuation: "beli kaos polos"."""
    lex = lexicon()
    for i, word in enumerate(tokens.words):
        if word not in lex["product_verbs"]:
            continue
        j = i + 1
        while j < len(tokens.words) and (tokens.words[j] in lex["product_skip"] or tokens.words[j].isdigit()):
            j += 1
        picked = []
        while j < len(tokens.words) and len(picked) < 4:
            w = tokens.words[j]
            gap = text[tokens.ends[j - 1]: tokens.starts[j]] if picked else ""
            if (w in lex["product_stopwords"] or w in lex["product_verbs"] or re.search(r"\d", w)
                    or re.search(r"[.,!?;:()\n]", gap) or text[tokens.starts[j]: tokens.ends[j]] in lex["masks"]):
                break
            picked.append(j)
            j += 1
        if picked and not all(tokens.words[k] in lex["product_generic"] for k in picked):
            span = (tokens.starts[picked[0]], tokens.ends[picked[-1]])
            return text[span[0]: span[1]], span
    return None
