"""Information extraction from Indonesian commerce text: goods price, other amounts, payment method,
quantity and product, each with the character span it was read from.

Rules, not a model: on the hand-labelled development set (benchmarks/social_extract.py) they reach the
precision and recall targets for price and payment method, and every decision can be traced to a
word list in ``resources/commerce_extraction.yaml``. The rules are hand-written because no library
parses Indonesian money ("1,5jt", "100rban", "seratus ribu", "goceng"); the word lists hold the
language knowledge.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

from niaga.data.io import require_columns

Span = tuple[int, int]
WORD_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
SUFFIXES = ("nya", "ny", "na")
# A line or sentence end; "..." is left alone (informal writing uses it as a comma).
CLAUSE_BREAK = re.compile(r"[\n!?;]|(?<!\.)\.(?!\.)\s")
ABBREVIATIONS = frozenset({"rp", "idr", "no", "tgl", "jl", "dr", "bpk", "ibu", "sdh", "yg"})

MULTIPLIERS = {"rb": 1_000, "rbu": 1_000, "ribu": 1_000, "ribuan": 1_000, "rebu": 1_000, "k": 1_000,
               "jt": 1_000_000, "jeti": 1_000_000, "juta": 1_000_000, "jutaan": 1_000_000,
               "miliar": 1_000_000_000, "milyar": 1_000_000_000, "triliun": 1_000_000_000_000}
# An amount: optional currency, a number (thousands grouped by "." or ",", or a decimal), optional
# range end, optional multiplier, optional "-an" (about), optional ",-" or "rupiah".
GROUPED = r"\d{1,3}(?:(?:\s?\.\s?|,)\d{3})+(?!\d)(?:,\d{1,2}(?!\d))?"
PLAIN = r"\d+(?:[.,]\d{1,2}(?!\d))?"
NUMBER = rf"(?:{GROUPED}|{PLAIN})"
MULT = r"(?:ribuan|ribu|rebu|rbu|rb|jutaan|juta|jeti|jt|miliar|milyar|triliun|k)"
AMOUNT_RE = re.compile(
    rf"(?<![\w.,/-])(?P<cur>(?:rp|idr)\s?\.?\s?)?(?P<num>{NUMBER})"
    rf"(?:\s?[-–]\s?(?P<num2>{NUMBER}))?"
    rf"(?:\s?(?P<mult>{MULT})(?P<about>(?:\s?[-.]?\s?an)(?![a-z]))?(?![a-z\d]))?"
    rf"(?P<tail>\s?,\s?-|\s?rupiah\b)?",
    re.IGNORECASE)


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


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The word lists, loaded once; regexes compiled, lists turned into sets."""
    with resources.files("niaga").joinpath("resources/commerce_extraction.yaml").open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    lex = {key: frozenset(value) if isinstance(value, list) else value for key, value in raw.items()}
    lex["payment_methods"] = {name: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
                              for name, patterns in raw["payment_methods"].items()}
    for key in ("payment_not_followed_by", "payment_not_preceded_by"):
        lex[key] = {name: frozenset(words) for name, words in raw[key].items()}
    lex["cue_kind"] = {cue: kind for kind, cues in raw["amount_kinds"].items() for cue in cues}
    words = "|".join(sorted(raw["number_words"], key=len, reverse=True))
    lex["number_word_re"] = re.compile(
        rf"(?<![\w.,])(?:(?:{words}|\d+)\s*(?:belas|puluh|ratus)?\s*)+(?:ribu|juta)(?:an)?(?:\s+(?:{words})"
        rf"(?:\s*(?:belas|puluh|ratus))?\s*(?:ribu)?(?:an)?)*(?![\w])|(?<![\w])(?:seribu|sejuta)(?:an)?(?![\w])",
        re.IGNORECASE)
    lex["slang_re"] = re.compile(rf"(?<![\w])(?P<word>{'|'.join(raw['money_slang'])})(?:an)?(?![\w])", re.IGNORECASE)
    return lex


class Tokens:
    """Lower-cased word tokens with their offsets, for looking at the words around a span."""

    def __init__(self, text: str):
        self.text = text
        matches = list(WORD_RE.finditer(text))
        self.words = [m.group(0).lower() for m in matches]
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]

    def before(self, pos: int, n: int) -> list[str]:
        """Up to n words ending before pos, nearest first; stops at a line or sentence break."""
        out = []
        i = self.index_before(pos)
        while i >= 0 and len(out) < n:
            gap_end = pos if not out else self.starts[i + 1]
            if self.words[i] not in ABBREVIATIONS and CLAUSE_BREAK.search(self.text[self.ends[i]:gap_end]):
                break
            out.append(self.words[i])
            i -= 1
        return out

    def after(self, pos: int, n: int) -> list[str]:
        """Up to n words starting at or after pos, nearest first; stops at a line or sentence break."""
        out, i, last = [], bisect.bisect_left(self.starts, pos), pos
        while i < len(self.words) and len(out) < n:
            if CLAUSE_BREAK.search(self.text[last:self.starts[i]]):
                break
            out.append(self.words[i])
            last = self.ends[i]
            i += 1
        return out

    def index_before(self, pos: int) -> int:
        """Index of the last word ending at or before pos (-1 when none)."""
        return bisect.bisect_right(self.ends, pos) - 1


def _forms(word: str) -> tuple[str, ...]:
    """The word, and the word without a possessive suffix ("ongkirnya" → "ongkir")."""
    stripped = tuple(word[: -len(s)] for s in SUFFIXES if word.endswith(s) and len(word) - len(s) >= 3)
    return (word, *stripped)


def _in(word: str, words: frozenset) -> bool:
    return any(form in words for form in _forms(word))


# ---------------------------------------------------------------------------------------------- amounts

def _number_value(number: str) -> float:
    """ "150.000" → 150000, "1,5" → 1.5, "90 . 000" → 90000 (the SmSA corpus spaces its punctuation)."""
    compact = re.sub(r"\s", "", number)
    if re.fullmatch(GROUPED.replace(r"\s?", ""), compact):
        whole = re.sub(r",\d{1,2}$", "", compact)  # drop cents: "150.000,00"
        return float(re.sub(r"[.,]", "", whole))
    return float(compact.replace(",", "."))


def _cue_kind(tokens: Tokens, start: int, end: int) -> str | None:
    """The kind named by the nearest cue before the amount (or right after it); None when there is none.

    Two kinds of cue are weak. A generic paying verb ("bayar ongkir 6 ribu", "parkir bayar 5rb") yields
    to a specific kind further back in the clause; plain "uang" (cash: "diminta uang 50rb", "uang tunai
    50 juta") yields to a price word further back ("merogoh uang 500.000" for a meal).
    """
    lex = lexicon()
    cue_kind, connectors = lex["cue_kind"], lex["amount_connectors"]
    before = tokens.before(start, 6)
    found = None
    for i, word in enumerate(before):
        if word.isdigit() or word in connectors:
            continue
        bigram = f"{before[i + 1]} {word}" if i + 1 < len(before) else ""
        kind = cue_kind.get(bigram) or next((cue_kind[f] for f in _forms(word) if f in cue_kind), None)
        if kind is None:
            continue
        weak = kind == "cash" or kind == "price" and word in GENERIC_PAY_VERBS
        if found is None:
            found = kind
            if not weak:
                return kind
        elif found == "cash" and kind == "price" or found == "price" and kind not in ("price", "cash"):
            return kind
    if found:
        return found
    for word in tokens.after(end, 2):
        if word in PRICE_QUALIFIERS:  # "52.500 sebelum pajak" is still the price
            break
        kind = next((cue_kind[f] for f in _forms(word) if f in cue_kind), None)
        if kind and kind not in ("price", "cash"):
            return kind
    return None


PRICE_QUALIFIERS = frozenset({"sebelum", "sblm", "belum", "blm", "termasuk", "trmsk", "plus", "exclude", "include",
                              "incl", "excl", "per", "belom", "udah", "sudah", "sdh"})
# "voucher belanja 50rb", "cashback belanja 20rb": a shopping word also yields to a specific kind before it.
GENERIC_PAY_VERBS = frozenset({"bayar", "byr", "dibayar", "membayar", "pembayaran", "transfer", "ditransfer", "tf",
                               "total", "nominal", "tagihan", "belanja"})


def _is_money(match: re.Match, tokens: Tokens) -> bool:
    """Whether an amount-shaped number is money (see the word lists for what each check stands for)."""
    lex = lexicon()
    if match.group("cur"):
        return True
    mult = (match.group("mult") or "").lower()
    after = tokens.after(match.end(), 1)
    before = tokens.before(match.start(), 1)
    directly_after = after and re.fullmatch(r"\s*", tokens.text[match.end(): tokens.text.find(after[0], match.end())])
    if directly_after and _in(after[0], lex["count_nouns_after"]):
        return False
    for word in tokens.before(match.start(), 4):  # the nearest of a money cue and a measure word decides
        if any(f in lex["cue_kind"] or f in lex["k_money_context"] for f in _forms(word)):
            break
        if word in lex["nonmoney_before"]:
            return False
    if match.group("tail"):
        return True
    if mult == "k":
        if after and after[0] in lex["k_followed_by"] or before and before[0] in lex["k_preceded_by"]:
            return False
        if match.group("about"):
            return True
        context = tokens.before(match.start(), 6)
        return any(_in(w, lex["k_money_context"]) or any(f in lex["cue_kind"] for f in _forms(w))
                   or w in lex["amount_connectors"] - {"dari", "mulai", "sampai", "hingga", "sd", "lebih", "kurang"}
                   for w in context)
    if mult:
        return True
    number = match.group("num")
    if re.fullmatch(r"\d{1,3}(?:\s?\.\s?\d{3})+", number):
        return True
    return False


def _casual_thousands(match: re.Match, tokens: Tokens) -> int:
    """ "harga 100an", "harga 300 up": a bare number after a price word is in thousands.

    Returns how many characters of suffix to add to the span, 0 when this is not such a number.
    """
    if match.group("cur") or match.group("mult") or not re.fullmatch(r"\d{2,3}", match.group("num")):
        return 0
    before = tokens.before(match.start(), 1)
    suffix = re.match(r"\s?-?([a-z]+)\b", tokens.text[match.end():].lower())
    if before and _in(before[0], {"harga", "hrg", "hrga", "seharga"}) and suffix \
            and suffix.group(1) in lexicon()["casual_thousands_suffix"]:
        return len(suffix.group(0))
    return 0


def _amount_matches(text: str, tokens: Tokens) -> list[tuple[int, Span]]:
    """(value, span) of every money amount in the text, in order."""
    lex = lexicon()
    found: list[tuple[int, Span]] = []
    for match in AMOUNT_RE.finditer(text):
        casual_suffix = _casual_thousands(match, tokens)
        if not casual_suffix and not _is_money(match, tokens):
            continue
        factor = 1_000 if casual_suffix else MULTIPLIERS.get((match.group("mult") or "").lower(), 1)
        end = match.end() + casual_suffix
        if match.group("num2"):
            first_end = match.start("num") + len(match.group("num"))
            found.append((round(_number_value(match.group("num")) * factor), (match.start(), first_end)))
            found.append((round(_number_value(match.group("num2")) * factor), (match.start("num2"), end)))
        else:
            found.append((round(_number_value(match.group("num")) * factor), (match.start(), end)))
    for match in lex["number_word_re"].finditer(text):
        value = _number_words_value(match.group(0))
        if value and _words_are_money(match, tokens, found):
            found.append((value, match.span()))
    for match in lex["slang_re"].finditer(text):
        found.append((lex["money_slang"][match.group("word").lower()], match.span()))
    return sorted(found, key=lambda item: item[1][0])


def _number_words_value(phrase: str) -> int:
    """ "empat puluh lima ribu" → 45000, "sejuta" → 1000000, "seratus ribu" → 100000."""
    words = lexicon()["number_words"]
    total, current = 0, 0
    for word in re.findall(r"[a-z]+|\d+", phrase.lower()):
        word = word[:-2] if word.endswith("an") and word[:-2] in ("ribu", "juta", "seribu", "sejuta") else word
        if word.isdigit():
            current += int(word)
        elif word in words and words[word] >= 1000:
            total += words[word]
        elif word in words:
            current += words[word]
        elif word == "belas":
            current += 10
        elif word == "puluh":
            current *= 10
        elif word == "ratus":
            current *= 100
        elif word in ("ribu", "juta"):
            total += (current or 1) * (1_000 if word == "ribu" else 1_000_000)
            current = 0
    return total + current


def _words_are_money(match: re.Match, tokens: Tokens, found: list[tuple[int, Span]]) -> bool:
    """Number words are money only with a money word before, "rupiah" after, or as a range end."""
    if re.match(r"\s*rupiah", tokens.text[match.end():], re.IGNORECASE):
        return True
    if any(a <= match.start() < b for _, (a, b) in found):
        return False
    if any(re.fullmatch(r"\s*[-–]\s*", tokens.text[end: match.start()]) for _, (_, end) in found):
        return True
    money_words = {"harga", "hrg", "seharga", "bayar", "dibayar", "membayar", "cuma", "hanya", "uang", "duit",
                   "senilai", "sebesar", "rp", "biaya", "ongkir", "tarif"}
    return any(_in(w, money_words) for w in tokens.before(match.start(), 3))


def _amounts(text: str, tokens: Tokens) -> list[Amount]:
    amounts: list[Amount] = []
    for value, span in _amount_matches(text, tokens):
        previous = amounts[-1] if amounts else None
        joined = previous and re.fullmatch(r"\s*(?:[-–,/&+]|dan|atau|s\.?d\.?|sampai|hingga|ke)\s*",
                                           text[previous.span[1]: span[0]], re.IGNORECASE)
        kind = _cue_kind(tokens, *span)
        if joined and kind is None:
            kind = previous.kind  # "ongkir 10rb - 15rb", "cashback 5rb, 10rb": a list shares its cue
        amounts.append(Amount(kind or "price", value, span))
    return amounts


# ---------------------------------------------------------------------------------------------- payment

MODALS = frozenset({"bisa", "bs", "menerima", "terima", "nerima", "pakai", "pake", "ada", "mau", "support", "melayani",
                    "dukung", "mendukung", "boleh", "pilih"})
WALLETS = frozenset({"GoPay", "OVO", "DANA", "ShopeePay", "saldo", "e-wallet"})
NEED_COMMERCE = frozenset({"transfer", "GoPay", "OVO", "ShopeePay", "PayLater", "Kredivo", "Akulaku", "kartu kredit",
                           "e-wallet"})
STORE_PAYMENT_CUES = frozenset({"bayar", "byr", "bayarnya", "dibayar", "membayar", "pembayaran", "pembayarannya", "via",
                                "lewat", "lwt", "melalui", "metode", "pilih"})


def _payment_ok(name: str, match: re.Match, tokens: Tokens, commerce: bool) -> bool:
    """Whether an alias of a payment method, at this place, names a way of paying.

    ``commerce``: whether the text is about buying at all (a commerce word or an amount of money);
    a wallet or a bank name in a text about nothing bought is news or chatter, not a payment.
    """
    lex = lexicon()
    before = tokens.before(match.start(), 4)
    after = tokens.after(match.end(), 5)
    negated = before and before[0] in lex["negations"] or \
        len(before) > 1 and before[1] in lex["negations"] and before[0] in MODALS
    following = " ".join(after[:3])
    if (negated or any(w in lex["payment_not_cues"] for w in before[:2])
            or name in WALLETS and any(w in lex["payment_not_after"] for w in after)
            or any(following == w or following.startswith(w + " ") for w in lex["payment_not_followed_by"].get(name, ()))
            or before and before[0] in lex["payment_not_preceded_by"].get(name, ())):
        return False
    if name == "DANA":  # the e-wallet, not funds: written as its brand ("DANA") or right after a paying word
        if after and _in(after[0], lex["fund_words_after_dana"]):
            return False
        previous = tokens.index_before(match.start())
        brand = match.group(0).isupper() and not (previous >= 0 and tokens.text[tokens.starts[previous]:tokens.ends[previous]].isupper())
        return brand or bool(before and before[0] in lex["payment_cues"])
    if name in ("Indomaret", "Alfamart"):  # a shop as often as a payment channel
        return any(w in STORE_PAYMENT_CUES for w in before[:3])
    if name == "saldo":  # the balance pays only when it is spent on something
        spent = re.match(r"\s*(?:\w+\s+){0,3}?(?:ter|ke|di)potong|\s*(?:\w+\s+){0,2}?(?:tidak|tdk|ga|gak|gk|nggak|kurang)\s+cukup",
                         tokens.text[match.end():], re.IGNORECASE)
        return bool(spent) or bool(before and before[0] in lex["payment_cues"] - {"saldo", "akun", "aplikasi", "app"})
    if name in NEED_COMMERCE and not commerce and not (before and before[0] in STORE_PAYMENT_CUES | {"pakai", "pake"}):
        return False
    if name == "transfer" and match.group(0).isupper() and match.group(0).lower() in ("tf", "trf"):
        return not re.search(r"\b(?:card|kartu|radio|usb|sd)\b", tokens.text, re.IGNORECASE)  # "TF card"
    return True


def _payments(text: str, tokens: Tokens, commerce: bool) -> list[tuple[str, Span]]:
    """(method, span) of every payment mention, in order; overlapping aliases go to the first method listed."""
    lex = lexicon()
    taken: list[Span] = []
    found: list[tuple[str, Span]] = []
    for name, pattern in lex["payment_methods"].items():
        for match in pattern.finditer(text):
            span = match.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)  # claimed even when rejected: "gopay later" must not come back as GoPay
            if _payment_ok(name, match, tokens, commerce):
                found.append((name, span))
    found.sort(key=lambda item: item[1][0])
    has_va = any(name == "virtual account" for name, _ in found)
    kept = []
    for i, (name, (start, end)) in enumerate(found):
        if name == "transfer":
            # "transfer via VA", "VA M-Banking BCA": the channel named is the method, the bank app is the means.
            via_other = i + 1 < len(found) and found[i + 1][0] != "transfer" and re.fullmatch(
                r"\s*(?:via|lewat|pakai|pake|ke|melalui)\s*", text[end: found[i + 1][1][0]], re.IGNORECASE)
            bank_channel = has_va and re.search(r"bank|klik", text[start:end], re.IGNORECASE)
            if via_other or bank_channel:
                continue
        kept.append((name, (start, end)))
    return kept


# ---------------------------------------------------------------------------------------------- quantity, product

def _quantity(text: str, money: list[Span]) -> tuple[int, Span] | None:
    """The first count of items: "2 pcs", "dua paket", "beli 3", "x2" (not "2x beli", "1 x 6 jam")."""
    lex = lexicon()
    units = "|".join(sorted(lex["quantity_units"], key=len, reverse=True))
    verbs = "|".join(lex["quantity_verbs"])
    words = "|".join(w for w in lex["number_words"] if w != "se")
    not_time = r"(?!\s*(?:x|kali|hari|jam|bulan|minggu|tahun|thn|tgl|[.:/]\d))"
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


MASKS = frozenset({"NOMORID", "HTTPURL", "USER", "NOMORTELEPON", "USERNAME", "EMAIL", "NAMA"})


def _product(text: str, tokens: Tokens) -> tuple[str, Span] | None:
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
                    or re.search(r"[.,!?;:()\n]", gap) or text[tokens.starts[j]: tokens.ends[j]] in MASKS):
                break
            picked.append(j)
            j += 1
        if picked and not all(tokens.words[k] in lex["product_generic"] for k in picked):
            span = (tokens.starts[picked[0]], tokens.ends[picked[-1]])
            return text[span[0]: span[1]], span
    return None


# ---------------------------------------------------------------------------------------------- API

def extract(text: str) -> Extraction:
    """Price, other amounts, payment methods, quantity and product named in one text."""
    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, got {type(text).__name__}")
    tokens = Tokens(text)
    out = Extraction()
    amounts = _amounts(text, tokens)
    for amount in amounts:
        if amount.kind == "price":
            out.price.append(amount.value)
            out.price_spans.append(amount.span)
        else:
            out.other_amounts.append((amount.kind, amount.value, amount.span))
    commerce = bool(amounts) or any(_in(w, lexicon()["commerce_words"]) for w in tokens.words)
    for name, span in _payments(text, tokens, commerce):
        if name not in out.payment_methods:
            out.payment_methods.append(name)
            out.payment_spans.append(span)
    quantity = _quantity(text, [a.span for a in amounts])
    if quantity:
        out.quantity, out.quantity_span = quantity
    product = _product(text, tokens)
    if product:
        out.product, out.product_span = product
    return out


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
