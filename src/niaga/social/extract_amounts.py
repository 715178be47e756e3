"""Money amounts in Indonesian text, in every common written form, with the span each was read from.

"Rp 150.000", "150rb", "1,5jt", "Rp 14 000", "sejuta", "setengah juta", "goceng", "35 an ribu", "10 sampai
20 ribuan", informal thousands after a price word ("harga 45", "harga 60 lebih" = 45,000 / 60,000), a
dotted number before "rb" read as the full amount ("47.329 rb" = 47,329), and rupiah written in full as a
bare number where its clause makes it a price ("harga standar food court 3000 - 5000", "jual adidas mocas
hanya 115000", "5500 / kg") and it looks like rupiah (a multiple of 100, not a year, no unit after it).
Numbers that are not money (sizes, counts, odometers, codes, "nba 2k", "4K Ultra HD") are left out. What
role each amount plays in the text (the goods price, shipping, a comparison, ...) is decided in
``extract_roles``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from niaga.social.extract_lexicon import CLAUSE_BREAK, Span, Tokens, forms, in_words, lexicon

GROUPED = r"\d{1,3}(?:(?:\s?\.\s?|,)\d{3})+(?!\d)(?:,\d{1,2}(?!\d))?"
SPACED = r"\d{1,3}(?:\s\d{3})+(?![\d.,])"            # "rp 14 000": only right after a currency
PLAIN = r"\d+(?:[.,]\d{1,2}(?!\d))?"
SPACED_DECIMAL = r"\d{1,3},\s\d{1,2}(?=\s?(?:jt|juta)\b)"  # "13, 6 jt" (the SmSA corpus spaces commas)
COLON_DECIMAL = r"\d{1,3}\s:\s\d(?=\s?(?:rb|ribu|jt|juta)\b)"  # "42 : 5 ribu": the SmSA corpus writes "42.5" so
DOTTED = re.compile(r"\d{1,3}(?:\s?\.\s?\d{3})+")


@dataclass
class Money:
    """One amount: its value in rupiah, the span of text it was read from, and how it was written."""

    value: int
    span: Span
    factor: int = 1          # the multiplier applied ("rb" = 1,000), 1 for a plain amount
    informal: bool = False   # thousands left unwritten ("harga 45")
    range_end: bool = False  # the second number of a range ("5-10rb"): it plays the first one's role


@lru_cache(maxsize=1)
def amount_re() -> re.Pattern:
    """An amount: optional currency, a number, optional range end, optional multiplier, optional "-an"
    (about) and optional ",-" or "rupiah"."""
    mult = "|".join(sorted(lexicon()["multipliers"], key=len, reverse=True))
    number = rf"(?:{SPACED_DECIMAL}|{COLON_DECIMAL}|{GROUPED}|{PLAIN})"
    first = rf"(?(cur)(?:{SPACED}|{number})|{number})"
    return re.compile(
        rf"(?<![\w.,/-])(?P<cur>(?:rp|idr)\s?\.?\s?)?(?P<num>{first})"
        rf"(?:\s?[-–]\s?(?P<num2>{number}))?"
        rf"(?P<pre_about>\s?(?:-\s?)?an(?=\s?(?:{mult})\b))?"
        rf"(?:\s?(?P<mult>{mult})(?P<about>(?:\s?[-.]?\s?an)(?![a-z]))?(?![a-z\d]))?"
        rf"(?P<tail>\s?,\s?-|\s?rupiah\b|\s?perak\b)?",
        re.IGNORECASE)


def number_value(number: str) -> float:
    """ "150.000" → 150000, "1,5" → 1.5, "90 . 000" → 90000, "14 000" → 14000, "13, 6" → 13.6,
    "42 : 5" → 42.5."""
    compact = re.sub(r"\s", "", number).replace(":", ".")
    if re.fullmatch(GROUPED.replace(r"\s?", ""), compact) or re.fullmatch(r"\d{1,3}(?:\s\d{3})+", number):
        whole = re.sub(r",\d{1,2}$", "", compact)  # drop cents: "150.000,00"
        return float(re.sub(r"[.,]", "", whole))
    return float(compact.replace(",", "."))


def _factor(match: re.Match) -> int:
    """The multiplier of a match; a grouped number before a thousands word is already in rupiah
    ("47.329 rb" = 47,329; "40,000 - 50,000 ribuan" = 40,000 and 50,000)."""
    lex = lexicon()
    mult = (match.group("mult") or "").lower()
    factor = lex["multipliers"].get(mult, 1)
    if mult in lex["thousand_multipliers"] and re.fullmatch(GROUPED, match.group("num").strip()):
        return 1
    return factor


def _directly_after(tokens: Tokens, end: int) -> str | None:
    """The word right after end, when only spaces (or nothing) separate it from the amount."""
    after = tokens.after(end, 1)
    if not after:
        return None
    gap = tokens.text[end: tokens.text.lower().find(after[0], end)]
    return after[0] if re.fullmatch(r"\s*", gap) else None


def _counted_noun(tokens: Tokens, end: int) -> str | None:
    """The noun an amount counts, past "lebih" or "an" ("20 ribu lebih tenaga kerja", "ribuan orang")."""
    word = _directly_after(tokens, end)
    if word in lexicon()["count_fillers"]:
        after = tokens.after(end, 2)
        return after[1] if len(after) == 2 else None
    return word


def _money_evidence(match: re.Match, tokens: Tokens) -> str:
    """Whether an amount-shaped number is money: "yes", "no", or "maybe" (money when the text holds
    other money: "mendoan 15k" in a list of prices)."""
    lex = lexicon()
    if match.group("cur"):
        return "yes"
    mult = (match.group("mult") or "").lower()
    before = tokens.before(match.start(), 1)
    next_word = _counted_noun(tokens, match.end())
    if next_word and in_words(next_word, lex["count_nouns_after"]):
        return "no"
    if _measure_word_before(tokens, match.start()):
        return "no"
    if match.group("tail"):
        return "yes"
    context = tokens.before(match.start(), 6)
    in_context = any(in_words(w, lex["k_money_context"]) or any(f in lex["cue_kind"] for f in forms(w))
                     or w in lex["amount_connectors"] - lex["k_weak_connectors"] for w in context)
    if mult == "k":
        after = tokens.after(match.end(), 1)
        if after and after[0] in lex["k_followed_by"] or before and before[0] in lex["k_preceded_by"]:
            return "no"
        if match.group("about") or in_context:
            return "yes"
        return "maybe"
    if mult:
        return "yes"
    number = match.group("num")
    if DOTTED.fullmatch(number):
        return "yes"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):  # "800,000": money in a money context
        return "yes" if in_context else "maybe"
    return "no"


def _measure_word_before(tokens: Tokens, start: int) -> bool:
    """Whether a measure word ("km", "tahun", "nomor") names the number at start: the nearest of a money cue,
    a measure word and another number up to four words back decides ("rpm 2.500" is no money; in "beli
    tahun 2004 sekitar 80 jutaan" "tahun" measures 2004, not 80 jutaan, and in "3 tahun pe 5500 / kg" the 3).
    """
    lex = lexicon()
    indices = tokens.indices_before(start, 5)  # nearest first: indices[n + 1] is the word before indices[n]
    for n, i in enumerate(indices[:4]):
        word = tokens.words[i]
        if any(f in lex["cue_kind"] or f in lex["k_money_context"] for f in forms(word)) or word.isdigit():
            return False
        if word in lex["nonmoney_before"]:
            # "3 tahun pe 5500 / kg": a measure word right after a number measures that number
            number_before = n + 1 < len(indices) and tokens.words[indices[n + 1]].isdigit() and \
                not tokens.text[tokens.ends[indices[n + 1]]:tokens.starts[i]].strip()
            return not number_before
    return False


def _price_word_before(tokens: Tokens, start: int, reach: int) -> str | None:
    """The price word ("harga", "bayar") before start, with only filler words between ("harga nya sekitar
    45", "bayar 97", "harga 1 porsi 17000"); None when there is none."""
    lex = lexicon()
    for word in tokens.before(start, reach):
        if in_words(word, lex["informal_price_words"]):
            return word
        if not (word.isdigit() or word in lex["informal_skip"]):
            return None
    return None


def _price_follows(text: str) -> bool:
    """Whether what follows a bare number lets it be a price: the end of the text or of a clause, a dash or a
    slash ("3000 - 5000", "10000 / orang"), or a word that follows prices ("28000 untuk panggang", "5000
    aja"). A noun right after a bare number is what it counts ("jual 268 rak", "bayar 1500 pamflet")."""
    follower = re.match(r"\s*(?:(?P<word>[^\W\d_]+)|(?P<mark>[^\w\s]|$))", text)
    if not follower:
        return False
    if follower.group("word") is None:
        return True
    return follower.group("word").lower() in lexicon()["bare_price_followers"]


def _informal(match: re.Match, tokens: Tokens) -> tuple[int, int] | None:
    """(factor, suffix length) for a bare number written without its thousands after a price word:
    "harga 45" → ×1000, "harga 60 lebih", "harga 100an", "harga 300 up"; a bare 4-7 digit number after a
    price word is rupiah as written ("harga nya 19500"). None when the number is not such a price."""
    lex = lexicon()
    if match.group("cur") or match.group("mult") or match.group("pre_about"):
        return None
    number = match.group("num")
    digits = re.fullmatch(r"\d{2,7}", number)
    if not digits or match.group("num2") and not re.fullmatch(r"\d{2,7}", match.group("num2")):
        return None
    text = tokens.text
    short = len(number) <= 3
    suffix = re.match(r"\s?-?\s?([a-z]+)\b", text[match.end():].lower())
    suffix_len = len(suffix.group(0)) if short and suffix and suffix.group(1) in lex["casual_thousands_suffix"] else 0
    if re.search(r"\d\s?/\s?$", text[:match.start()]):  # "harga 8 / 10": a score
        return None
    if not suffix_len:
        if re.match(r"[\w]|\s?%|[.,:/]\d", text[match.end():]):  # "4x4", "42mm", "70 %", "20.00", "10/2"
            return None
        next_word = _directly_after(tokens, match.end())
        if next_word and (in_words(next_word, lex["count_nouns_after"]) or next_word in lex["measure_units"]):
            return None
    if short and int(number) < 10:
        return None
    price_word = _price_word_before(tokens, match.start(), 4)
    if price_word:
        if not short:
            return (1, 0) if _plausible_rupiah(number) else None
        if in_words(price_word, lex["sale_verbs"]) and not suffix_len and not _price_follows(
                text[match.end():]):
            return None  # "jual 268 rak dinding", "dijual 131 makan siang cooler": a count or a model number
        return 1_000, suffix_len
    # "harga nya lumayan mahal ... sudah 300 lebih": a suffixed number in a clause about the price
    if suffix_len and any(in_words(w, lex["informal_price_words"]) or w in lex["price_judgements"]
                          for w in tokens.before(match.start(), 10)):
        return 1_000, suffix_len
    return None


def _plausible_rupiah(number: str) -> bool:
    """Whether a bare number looks like rupiah written in full: 4-7 digits (a shorter one after a price word is
    in thousands, "harga 500" = 500,000, and otherwise not read), at least the minimum, a multiple of 100 (prices
    are: "19500", "115000"; codes, phone parts and model numbers mostly are not: "6339", "1603", "18650"), and
    not a year."""
    bounds = lexicon()["bare_rupiah"]
    if not re.fullmatch(r"[1-9]\d{3,6}", number):
        return False
    value = int(number)
    return value >= bounds["minimum"] and value % bounds["multiple_of"] == 0 and not \
        bounds["years"][0] <= value <= bounds["years"][1]


def _written_rupiah(match: re.Match, tokens: Tokens) -> int | None:
    """The suffix length ("6000an": about 6000) when a bare number looks like rupiah written in full, with
    nothing after it that makes it a count, a measure or part of a code; None otherwise. Whether it is
    money then depends on the words around it (``_rupiah_context``)."""
    lex = lexicon()
    if any(match.group(g) for g in ("cur", "mult", "pre_about", "tail")):
        return None
    if not _plausible_rupiah(match.group("num")) or match.group("num2") and not _plausible_rupiah(
            match.group("num2")):
        return None
    text = tokens.text
    suffix = re.match(r"-?an\b", text[match.end():], re.IGNORECASE)
    end = match.end() + (suffix.end() if suffix else 0)
    if re.match(r"[\w]|\s?%|\s?[.,:/-]\s?\d", text[end:]):  # "1080p", "70 %", "20.00", "1500 - 6339"
        return None
    next_word = _directly_after(tokens, end)
    if next_word and (in_words(next_word, lex["count_nouns_after"]) or next_word in lex["measure_units"]):
        return None
    if _measure_word_before(tokens, match.start()) or not _price_follows(text[end:]):
        return None
    return end - match.end()


def _rupiah_context(tokens: Tokens, start: int, end: int) -> bool:
    """Whether a bare rupiah-shaped number is a price by the words around it: a price, selling or buying
    word earlier in the clause, with no other number and no "tapi" between ("harga standar food court
    3000", "jual adidas mocas hanya 115000", "hanya berharga 5000", "htm ide 10000"), or a price per unit
    after it ("5500 / kg", "10000 / orang")."""
    lex = lexicon()
    for word in tokens.before(start, lex["bare_rupiah"]["reach"]):
        if re.search(r"\d", word) or word in lex["marker_barriers"]:
            break
        if in_words(word, lex["bare_price_cues"]):
            return True
    per_unit = re.match(r"\s*(?:/|per\b)\s*([a-z]+)", tokens.text[end:], re.IGNORECASE)
    return bool(per_unit) and per_unit.group(1).lower() in lex["priced_units"]


def _listed_after(tokens: Tokens, start: int, found: list[Money]) -> bool:
    """Whether a bare number continues a list of prices: the amount before it, in the same clause and a few
    words back, is money, and "dan", "atau" or a comma joins them ("harga nya sekitar 28000 untuk panggang
    dan 24000 untuk kecap", "air teh tidak sampai 1000 perak dan aneka juice 6000an")."""
    lex = lexicon()
    before = [m for m in found if m.span[1] <= start]
    if not before:
        return False
    gap = tokens.text[before[-1].span[1]:start]
    words = re.findall(r"[^\W\d_]+", gap.lower())
    if re.search(r"\d", gap) or CLAUSE_BREAK.search(gap + " ") or len(words) > lex["bare_rupiah"]["list_gap"]:
        return False
    return "," in gap or any(w in lex["list_words"] for w in words)


def _number_words_value(phrase: str) -> int:
    """ "empat puluh lima ribu" → 45000, "dua ratus lima puluh ribu" → 250000, "sejuta" → 1000000, "setengah
    juta" → 500000. "belas", "puluh" and "ratus" scale the number word just before them, not the sum so far."""
    words = lexicon()["number_words"]
    total, current, last = 0, 0.0, 0.0
    for word in re.findall(r"[a-z]+|\d+", phrase.lower()):
        word = word[:-2] if word.endswith("an") and word[:-2] in ("ribu", "juta", "seribu", "sejuta") else word
        if word.isdigit():
            current += int(word)
            last = int(word)
        elif word == "setengah":
            current += 0.5
            last = 0.5
        elif word in words and words[word] >= 1000:
            total += words[word]
        elif word in words:
            current += words[word]
            last = words[word]
        elif word in ("belas", "puluh", "ratus"):
            scaled = last + 10 if word == "belas" else last * (10 if word == "puluh" else 100)
            current += scaled - last
            last = scaled
        elif word in ("ribu", "juta"):
            total += (current or 1) * (1_000 if word == "ribu" else 1_000_000)
            current = last = 0
    return round(total + current)


def _words_are_money(match: re.Match, tokens: Tokens, found: list[Money]) -> bool:
    """Number words are money only with a money word before, "rupiah" after, or as a range end."""
    if any(m.span[0] <= match.start() < m.span[1] for m in found):
        return False
    if re.match(r"\s*rupiah", tokens.text[match.end():], re.IGNORECASE):
        return True
    if any(re.fullmatch(r"\s*[-–]\s*", tokens.text[m.span[1]: match.start()]) for m in found):
        return True
    after = tokens.after(match.end(), 1)
    if after and after[0] in lexicon()["number_word_idioms"]:
        return False  # "sayang seribu sayang", "sejuta umat", "seribu alasan"
    return any(in_words(w, lexicon()["number_word_money_cues"]) for w in tokens.before(match.start(), 5))


def _range_starts(tokens: Tokens, found: list[Money]) -> list[Money]:
    """ "10 sampai 20 ribuan", "15 ampe 20 ribu an", "sekitar 20 30 ribuan": a bare number joined to a
    multiplied amount takes its multiplier (when that keeps the range ascending)."""
    lex = lexicon()
    text = tokens.text
    joiners = "|".join(sorted(lex["range_joiners"], key=len, reverse=True))
    out = []
    for match in re.finditer(rf"(?<![\w.,/-])(\d{{1,3}})(?:\s*(?:{joiners})\s*|(?P<space>\s+))", text, re.IGNORECASE):
        nxt = next((m for m in found if m.span[0] == match.end()), None)
        if nxt is None or nxt.factor == 1 or any(m.span[0] <= match.start() < m.span[1] for m in found):
            continue
        if match.group("space") and not _about_before(tokens, match.start()):
            continue  # "sekitar 20 30 ribuan": a range by a space only right after "sekitar", "harga"
        value = int(match.group(1)) * nxt.factor
        if 0 < value < nxt.value:
            out.append(Money(value, match.span(1), nxt.factor))
    return out


def _about_before(tokens: Tokens, start: int) -> bool:
    """Whether the word before start is "sekitar", "kisaran", "harga" and the like."""
    lex = lexicon()
    before = tokens.before(start, 1)
    return bool(before) and (before[0] in lex["amount_connectors"] or in_words(before[0], lex["informal_price_words"]))


def money_amounts(text: str, tokens: Tokens) -> list[Money]:
    """Every money amount in the text, in order."""
    lex = lexicon()
    found: list[Money] = []
    maybe: list[tuple[re.Match, int]] = []
    bare: list[tuple[re.Match, int]] = []
    for match in amount_re().finditer(text):
        if re.search(r"[$€£¥]\s?$", text[:match.start()]):
            continue  # "$100jt": not rupiah
        if not match.group("mult") and re.match(r"\s?%", text[match.end():]):
            continue  # "1.000 %": a share, not money
        informal = _informal(match, tokens)
        if informal:
            factor, suffix_len = informal
        else:
            evidence = _money_evidence(match, tokens)
            if evidence == "no":
                suffix_len = _written_rupiah(match, tokens)
                if suffix_len is None:
                    continue
                if not _rupiah_context(tokens, match.start(), match.end() + suffix_len):
                    bare.append((match, suffix_len))  # money only as part of a list of prices
                    continue
                found.extend(_from_match(match, 1, match.end() + suffix_len, False))
                continue
            factor, suffix_len = _factor(match), 0
            if evidence == "maybe":
                maybe.append((match, factor))
                continue
        found.extend(_from_match(match, factor, match.end() + suffix_len, bool(informal)))
    if found:  # "mendoan 15k" counts when the text names other money
        for match, factor in maybe:
            found.extend(_from_match(match, factor, match.end(), False))
        found.sort(key=lambda m: m.span[0])
        for match, suffix_len in bare:  # "28000 untuk panggang dan 24000 untuk kecap"
            if _listed_after(tokens, match.start(), found):
                found.extend(_from_match(match, 1, match.end() + suffix_len, False))
                found.sort(key=lambda m: m.span[0])
    found.extend(_range_starts(tokens, found))
    for match in lex["number_word_re"].finditer(text):
        value = _number_words_value(match.group(0))
        if value and _words_are_money(match, tokens, found):
            found.append(Money(value, match.span(), 1))
    for match in lex["slang_re"].finditer(text):
        found.append(Money(lex["money_slang"][match.group("word").lower()], match.span(), 1))
    return sorted(found, key=lambda m: m.span[0])


def _from_match(match: re.Match, factor: int, end: int, informal: bool) -> list[Money]:
    if match.group("num2"):
        first_end = match.start("num") + len(match.group("num"))
        return [Money(round(number_value(match.group("num")) * factor), (match.start(), first_end), factor, informal),
                Money(round(number_value(match.group("num2")) * factor), (match.start("num2"), end), factor, informal,
                      range_end=True)]
    return [Money(round(number_value(match.group("num")) * factor), (match.start(), end), factor, informal)]
