"""Whose price is it: the role of each money amount in a text.

``price`` is only what the item in the text costs or cost the writer. Every other amount gets its role:
a fee (shipping, admin, packing, parking), a cashback, voucher, discount or refund, a comparison with
another shop or product ("kayak baju 35rb di pasar"), a hypothetical or threshold ("kalau 10 ribu",
"minimal belanja 60 ribu"), a lost or stolen value ("paket hilang senilai 3jt"), a compensation, a public
budget, and so on (the roles and their cue words are in ``resources/commerce_extraction.yaml``).

Two rules decide, in order:

1. the *cue*: the nearest cue word before the amount (or one right after it) names its kind ("ongkir
   18rb" is shipping, "harga 45rb" a price). A generic paying verb and plain "uang" are weak cues that
   yield to a specific kind further back in the clause; a few cues ("lebih murah", "selisih", "hemat")
   only count right next to the amount; "diskon 70% 55rb" is the price after the discount.
2. the *marker*: when the cue leaves the amount a price, a role marker in the clause around it (not past
   the amount before it, nor past "tapi", "lalu") can still say the price is not this item's ("kaya jaket
   harga 300 up", "Rugi 20ribu", "3jt lebih hilang", "berbeda dg yg 50ribuan").

An amount with neither is a fee when a fee word stands further back in its clause ("ongkos kirim nya mahal
banget ... cuma 1 kilometer doang 15k"). An amount in a list shares its neighbour's role ("ongkir 10rb -
15rb"); a sum of a billion rupiah or more without a price word is a public budget, not a shop price.
"""

from __future__ import annotations

import bisect
import re

from niaga.social.extract_lexicon import Tokens, forms, in_words, lexicon

PRICE_LIKE = (None, "price", "cash")


def cue_kind(tokens: Tokens, start: int, end: int) -> str | None:
    """The kind named by the nearest cue before the amount (or right after it); None when there is none."""
    lex = lexicon()
    cues, connectors = lex["cue_kind"], lex["amount_connectors"]
    indices = tokens.indices_before(start, 6)
    words = [tokens.words[i] for i in indices]
    found = None
    for n, (i, word) in enumerate(zip(indices, words)):
        if word.isdigit() or word in connectors:
            continue
        bigram = f"{words[n + 1]} {word}" if n + 1 < len(words) else ""
        cue = bigram if bigram in cues else next((f for f in forms(word) if f in cues), None)
        if cue is None:
            continue
        kind = cues[cue]
        if cue in lex["adjacent_only_cues"] and not _adjacent(tokens.text[tokens.ends[i]:start]):
            continue  # "harga nya lebih murah , 30 ribu": the amount is a price, not the difference
        if kind in ("discount", "cashback") and _discounted_price(tokens.text[tokens.ends[i]:start]):
            kind = "price"  # "DISKON 70% 55RB", "diskonnya jadi Rp 174.930": the price after the discount
        if kind == "price" and cue == word and _negated(words[n + 1: n + 4]):
            return "not_paid"  # "tidak bayar 64 ribu", "gak perlu bayar 10rb": nobody paid it
        weak = kind == "cash" or kind == "price" and word in lex["generic_pay_verbs"]
        if found is None:
            found = kind
            if not weak:
                return kind
        elif found == "cash" and kind != "cash" or found == "price" and kind not in ("price", "cash"):
            return kind  # "balikin uang 60rb" is a refund, "bayar ongkir 6 ribu" shipping
        elif found == "price" and kind == "price" and not weak:
            return kind  # "mau dibelanjain nominal 41rb": a buying word settles it before older cues

    return _cue_after(tokens, end) or found


def far_fee(tokens: Tokens, start: int, stop: int = -1) -> str | None:
    """A fee named further back in the clause than the cue reach (up to ``far_cue_reach`` more words), with no
    other amount (``stop``: where the amount before ends) and no "tapi" between: "ongkos kirim nya mahal
    banget dong restoran - sekolah gue cuma 1 kilometer doang 15k" is the shipping fee."""
    lex = lexicon()
    cues = lex["cue_kind"]  # every far_fee_cue is a cue of a fee kind (a test checks it)
    near = tokens.indices_before(start, 6)
    if len(near) < 6:
        return None
    for i in tokens.indices_before(tokens.starts[near[-1]], lex["far_cue_reach"]):
        word = tokens.words[i]
        if tokens.ends[i] <= stop or word in lex["marker_barriers"]:
            return None
        bigram = f"{tokens.words[i - 1]} {word}" if i else ""
        cue = bigram if bigram in cues else next((f for f in forms(word) if f in cues), None)
        if cue in lex["far_fee_cues"]:
            return cues[cue]
    return None


def _negated(before: list[str]) -> bool:
    """Whether the words before a paying word (nearest first) negate it: "tidak", "gak perlu", "ga usah"."""
    lex = lexicon()
    for word in before:
        if word in lex["negations"]:
            return True
        if word not in lex["negation_fillers"]:
            return False
    return False


def _cue_after(tokens: Tokens, end: int) -> str | None:
    """A specific kind named right after the amount ("18rb ongkirnya", "15 ribu per kendaraan"), in the same
    phrase: not past a comma ("300 lebih , tapi layanan nya ...")."""
    lex = lexicon()
    cues = lex["cue_kind"]
    after = tokens.after(end, 2)
    first = bisect.bisect_left(tokens.starts, end)
    for n in range(len(after)):
        if "," in tokens.text[tokens.ends[first + n - 1] if n else end: tokens.starts[first + n]]:
            after = after[:n]
            break
    bigram = " ".join(after)
    if len(after) == 2 and cues.get(bigram) not in (None, "price", "cash"):
        return cues[bigram]
    for n, word in enumerate(after):
        if word in lex["price_qualifiers"]:  # "52.500 sebelum pajak" is still the price
            break
        if n and word in lex["adjacent_only_cues"] or word in lex["before_only_cues"]:
            continue  # "nasi cuma 1.000 boleh menambah"; "webcam 1 jutaan kualitas sampah" is no quality comparison
        kind = next((cues[f] for f in forms(word) if f in cues), None)
        if kind and kind not in ("price", "cash"):
            return kind
    return None


def _adjacent(gap: str) -> bool:
    """Whether a cue and an amount stand side by side: only spaces, a dash or words like "sekitar" between
    ("naik itu sekitar 2 - 3 juta"); not "hanya" or "jadi" ("lebih murah hanya 160 jutaan" is a price)."""
    if re.search(r"[,.;!?]", gap):
        return False
    return all(w in lexicon()["adjacency_fillers"] for w in re.findall(r"[a-z]+", gap.lower()))


def _discounted_price(gap: str) -> bool:
    """ "diskon 70% 55rb", "diskon 20% jadi 80rb": the cue went to the percentage, or the amount is what
    the price became; not when the amount is the cap ("cashback 20 % hingga 20k")."""
    lex = lexicon()
    words = re.findall(r"[a-z]+", gap.lower())
    if any(w in lex["became_words"] for w in words):
        return True
    return bool(re.search(r"\d\s?%", gap)) and not any(w in lex["cap_words"] for w in words)


def marker_role(tokens: Tokens, start: int, end: int, stop: int = -1) -> str | None:
    """A role marker around an amount that the cue left a price: "kaya", "di pasar", "kalau", "minimal",
    "hilang" (the markers and their exceptions are in the word lists). ``stop``: where the amount before
    this one ends; the search does not go past it ("kalo di mall 500ribu, kalo di tokopedia 300ribu")."""
    lex = lexicon()
    markers = lex["role_marker"]
    words, ends = [], []
    for i in tokens.indices_before(start, 8):
        word = tokens.words[i]
        if tokens.ends[i] <= stop or re.search(r"\d", word) and (len(word) > 1 or not word.isdigit()):
            break  # another amount ("kalo di mall 500ribu, kalo di ..."), or a number naming the product
        if word in lex["marker_barriers"]:
            break  # "yaitu", "tapi", "lalu": a new subject
        words.append(word)
        ends.append(tokens.ends[i])
    if words and words[0] in lex["relative_words"] and any(w in lex["contrast_words"] for w in words[1:]):
        return "comparison"  # "berbeda dg yg 50ribuan", "lbh dri logitech yg 100rb": the other one costs it
    for n, word in enumerate(words):
        for size in (3, 2, 1):
            if n + size > len(words):
                continue
            phrase = " ".join(reversed(words[n: n + size]))
            role = markers.get(phrase) if size > 1 else next((markers[f] for f in forms(word) if f in markers), None)
            if role is None:
                continue
            following = words[n - 1] if n >= 1 else ""
            if phrase in lex["conditionals"] and following in lex["hypothetical_not_before"]:
                continue  # "kalau mau ...", "kalau tidak salah 10 ribu", "kalo di tokopedia cmn 300ribu"
            if role == "threshold" and following.isdigit():
                continue  # "order minimum 4 paket ... 120k / paket": the threshold counts items, not this amount
            if role == "threshold" and re.match(r"\s*,", tokens.text[ends[n]:]):
                continue  # "minimal , tolong dibantu": SmSA writes the address "min," (admin) as "minimal ,"
            if role == "comparison" and following in lex["comparison_not_before"]:
                continue  # "kok kayak gini", "bahan kaya apa yah": "like this", not another product
            preceding = words[n + size] if n + size < len(words) else ""
            if role == "lost_value" and preceding in lex["negations"]:
                continue  # "tidak rugi bayar 1 juta"
            return role
    after = tokens.after(end, 3)
    for n in range(len(after)):
        for size in (2, 1):
            phrase = " ".join(after[n: n + size])
            if len(after[n: n + size]) == size and phrase in lex["role_marker_after"]:
                return lex["role_marker_after"][phrase]
    return None


def role(tokens: Tokens, span: tuple[int, int], value: int, previous: tuple[str, bool] | None,
         range_end: bool = False, stop: int = -1) -> str:
    """The role of one amount. ``previous``: the role of the amount just before, and whether the two are
    joined as a list or a range ("10rb - 15rb", "5rb, 10rb"); ``range_end``: the amount ends a range
    written as one ("5-10rb") and plays the role of its start; ``stop``: where the amount before ends."""
    if range_end and previous:
        return previous[0]
    kind = cue_kind(tokens, *span)
    if previous and previous[1] and kind is None:
        kind = previous[0]  # "ongkir 10rb - 15rb", "cashback 5rb, 10rb": a list shares its cue
    if kind in PRICE_LIKE:
        kind = marker_role(tokens, *span, stop) or kind
    if kind is None:
        kind = far_fee(tokens, span[0], stop)
    if kind in (None, "price") and value >= lexicon()["public_sum_threshold"] and not _price_word_near(tokens, span[0]):
        kind = "public_budget"  # "pemerintah rogoh rp 97,6 triliun", "kpk habiskan rp 780,1 milyar"
    return kind or "price"


def _price_word_near(tokens: Tokens, start: int) -> bool:
    return any(in_words(w, lexicon()["informal_price_words"]) for w in tokens.before(start, 3))
