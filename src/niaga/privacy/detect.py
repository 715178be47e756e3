"""Finding personal data in Indonesian text: NIK, phone numbers, e-mail, card and bank account numbers, street
addresses.

``find_pii(text)`` returns the spans it finds, each with its kind. Numbers are found in two steps: every run
of digits (with the separators people type: spaces, dashes, dots, parentheses, a leading "+") is cut into
its candidate numbers, and each candidate is named by its structure (``niaga.privacy.validators``) and by the
words just before it ("NIK", "no hp", "rek BCA", "resi"). Whatever fails every check is left alone: prices
("Rp 150.000", "150rb"), invoice and order numbers ("INV/20240101/MPL/123456"), parcel tracking numbers
("JP1234567890", "SPXID0123456789"), dates, sizes and quantities.

A number its writer labels as a NIK ("NIK saya", "no KTP", "no. identitas", "nomor induk") is a NIK when it has
16 digits, whatever its codes. A full stop and a space end a number: "kartu 4556737586899855. 2 pcs" holds a
card number and a quantity, not one number of 17 digits.

Precedence for a number that fits more than one kind (a NIK from Bali also has a Mastercard prefix): the
kind the nearest cue word names, when the number fits it; else a card number typed in groups of four; else
NIK, phone, card; a bank account needs a bank name or "rek" / "rekening" / "a.n." close by, since 10–16
plain digits say nothing by themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from niaga.privacy.validators import is_bank_account, is_card, is_nik, national_phone

KINDS = ("nik", "phone", "email", "card", "bank_account", "address")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, its span ``text[start:end]`` and the text of that span.

    The ``repr`` leaves the value out, so a finding that ends up in a log line or a traceback carries no PII.
    """

    kind: str
    start: int
    end: int
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Finding(kind={self.kind!r}, start={self.start}, end={self.end}, value=<{len(self.value)} chars>)"


# --- cue words -----------------------------------------------------------------------------------------------

BANKS = ("bca", "bni", "bri", "mandiri", "cimb", "cimb niaga", "niaga", "permata", "bsi", "btn", "danamon", "ocbc",
         "ocbc nisp", "maybank", "panin", "mega", "bjb", "jago", "bank jago", "seabank", "jenius", "btpn", "muamalat",
         "bukopin", "sinarmas", "dbs", "uob", "hsbc", "citibank", "bpd", "bank jatim", "bank dki", "bank jateng",
         "bank nagari", "bank sumut", "bank kalbar", "bank bengkulu", "allo bank", "blu", "neo", "line bank")
_CUES = {
    # a number labelled as a NIK is one whatever its codes (see _classify): "no. identitas", "nomor induk", the KK
    "nik": r"nik|n\.i\.k|e-?ktp|ktp|nomor induk kependudukan|(?:no|nmr|nomor)\.?\s?(?:induk|identitas|kk)|identitas|"
           r"kartu (?:identitas|keluarga|tanda penduduk)",
    "phone": r"hp|no\.?\s?hp|nohp|handphone|ponsel|telp|telpon|telepon|tlp|tlpn|telf|phone|wa|w\.a|whatsapp|"
             r"whatsap|hub|hubungi|kontak|contact|call|sms|nomer|nmr hp|cp",
    "card": r"kartu kredit|kartu debit|credit card|debit card|cc|card|kartu|visa|master\s?card|amex|jcb|no\.? kartu",
    "bank_account": r"rek|rek\.|rekening|norek|no\.?\s?rek|nomor rekening|account|acc|a/n|a\.n\.?|an\.|atas nama|"
                    r"tf|transfer|trf|bank|" + "|".join(re.escape(b) for b in BANKS),
    # numbers that are references, not people: a number right after these words is left alone
    "reference": r"resi|no\.? resi|awb|airway|tracking|lacak|invoice|inv|faktur|order|order id|pesanan|id pesanan|"
                 r"no\.? pesanan|transaksi|id transaksi|kode booking|booking|kode|voucher|promo|va|virtual account|"
                 r"sku|kode pos|npwp|isbn|imei|serial|sn|s/n|ref|referensi|tiket",
}
_CUE = re.compile("|".join(rf"(?P<{k}>(?<![\w])(?:{v})(?![\w]))" for k, v in _CUES.items()), re.I)
_BANK_AFTER = re.compile(r"^\W{0,3}(?:\(?\s*(?:bank\s+)?(?:" + "|".join(re.escape(b) for b in sorted(BANKS, key=len, reverse=True))
                         + r")\b\s*\)?|a\.?\s?n\.?\s|a/n\b|atas nama\b)", re.I)
# what follows a number and belongs to it: "(BNI)", "a.n. Budi Santoso"; a bare bank name may open the next one
_OWN_AFTER = re.compile(r"^\W{0,3}(?:\([^()\d]{1,30}\)|(?:a\.?\s?n\.?|a/n|atas nama)\s+(?:[^\W\d_][\w.'’]*\s*){1,3})", re.I)
_MONEY_BEFORE = re.compile(r"(?:\b(?:rp|idr|usd|rp\.)\s?|\$\s?)$", re.I)
_CONTEXT_CHARS = 40
_LAST_DIGIT = re.compile(r"\d(?=\D*$)")
_WORDS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{3})[.!?]+\s")  # "pesanan. " ends a sentence, "no. rek" does not

# --- numbers -------------------------------------------------------------------------------------------------

_GROUP = r"\(?\d+\)?"
_SEP = r"(?:[ \u00a0]?[.\-][ \u00a0]?|[ \u00a0]{1,2}|(?<=\)))"  # "0812-3456", "4111  1111", "+62 (0)812"
# a run of digit groups that is not glued to a word, a path or another number ("JP1234...", "INV/2024...")
_RUN = re.compile(rf"(?<![\w/#@+.\-])(?:\(\+|\+)?{_GROUP}(?:{_SEP}{_GROUP})*(?![\w/@])(?!-\w)(?!\.(?![A-Z][a-z])\w)")
_DIGIT_GROUP = re.compile(r"\d+")
_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:[.,]\d{3})+$")
_MAX_DIGITS = 19
_MAX_GROUPS = 8  # "+62 (0)812-3456-7890" is 5 groups; a run of many numbers is cut into windows of 8 groups
_JOINED = re.compile(r"[.\-]")
_SENTENCE_GAP = re.compile(r"\.[ \u00a0]")  # "4556737586899855. 2": a full stop right after a number, then a space
_DATE = re.compile(r"(?:(?:0?[1-9]|[12]\d|3[01])[.\-](?:0?[1-9]|1[0-2])[.\-](?:19|20)?\d\d"
                   r"|(?:19|20)\d\d[.\-](?:0?[1-9]|1[0-2])[.\-](?:0?[1-9]|[12]\d|3[01]))(?!\d)")


def _context(text: str, start: int) -> str | None:
    """The kind the nearest cue word before ``start`` names, or None.

    A cue belongs to the number right after it: the window stops at the previous digit ("rek BCA 1234567890,
    3273..." says nothing about the second number) and at four words between cue and number; a reference word
    must come right before ("no resi: 0123...", but not "order from 0812..."); no cue reaches over the end of a
    sentence.
    """
    window = text[max(0, start - _CONTEXT_CHARS):start]
    digit = _LAST_DIGIT.search(window)
    if digit:  # and the cue that follows a number ("1234567890 (BNI)", "a.n. Budi") is that number's
        window = window[digit.end():]
        own = _OWN_AFTER.match(window)
        window = window[own.end():] if own else window
    sentence = None
    for sentence in _SENTENCE_END.finditer(window):
        pass
    if sentence:
        window = window[sentence.end():]
    nearest = None
    for match in _CUE.finditer(window):
        nearest = match
    if nearest is None:
        return None
    words = len(_WORDS.findall(window[nearest.end():]))
    return nearest.lastgroup if words <= (0 if nearest.lastgroup == "reference" else 4) else None


# how the digit groups of a number typed with spaces may fall, per kind; numbers joined by "-" or "." may fall
# any way ("0812-345-6789", "32.73.01.450690.0003")
_SPACED_SHAPES = {"nik": {(6, 6, 4), (4, 4, 4, 4), (2, 2, 2, 6, 4)}, "card": {(4, 4, 4, 4), (4, 6, 5), (4, 4, 4, 4, 3)}}


def _shape_fits(kind: str, shape: tuple[int, ...] | None) -> bool:
    if shape is None:
        return True
    if kind in _SPACED_SHAPES:
        return shape in _SPACED_SHAPES[kind]
    if kind == "phone":  # 0812 3456 7890, +62 812 3456 7890, (021) 5551234, (0274) 512345, +62 (0)812 3456 7890
        return shape[0] <= 5 and (len(shape) == 2 and 3 <= shape[1] <= 8 or all(n in (1, 3, 4, 5, 6) for n in shape[1:]))
    return all(2 <= n <= 6 for n in shape)  # bank account: 123 456 7890


def _classify(text: str, start: int, end: int, digits: str, grouped_in_fours: bool, plus: bool,
              shape: tuple[int, ...] | None = None) -> str | None:
    """The kind of the number ``text[start:end]`` (``digits`` without separators), or None. ``shape``: the
    lengths of its digit groups when a space parts any two of them."""
    cue = _context(text, start)
    if cue == "reference" and not (plus or (digits.startswith(("08", "62")) and not text[start:end].isdigit())):
        return None  # a reference number; a phone typed with separators ("resi 0812-3456-7890") is still a phone
    fits = set()
    # a number its writer calls a NIK is one even when its codes do not check out (a typo, a regency code the
    # list lacks, a made-up date): what matters is that someone meant to share an identity number
    if is_nik(digits) or (cue == "nik" and len(digits) == 16 and len(set(digits)) > 1):
        fits.add("nik")
    if national_phone(digits, international=plus or digits.startswith("62")) is not None:
        fits.add("phone")
    if is_card(digits):
        fits.add("card")
    bank_cue = cue == "bank_account" or bool(_BANK_AFTER.match(text[end:end + 25]))
    if bank_cue and is_bank_account(digits) and not plus and "(" not in text[start:end]:
        fits.add("bank_account")
    fits = {kind for kind in fits if _shape_fits(kind, shape)}
    if not fits:
        return None
    if cue in fits:
        return cue
    if "card" in fits and grouped_in_fours:
        return "card"
    for kind in ("nik", "phone", "card", "bank_account"):
        if kind in fits:
            return kind
    return None


def _numbers(text: str) -> list[Finding]:
    found = []
    for run in _RUN.finditer(text):
        money = bool(_MONEY_BEFORE.search(text[max(0, run.start() - 5):run.start()]))  # Rp 150.000
        raw = run.group()
        groups = [(run.start() + m.start(), run.start() + m.end()) for m in _DIGIT_GROUP.finditer(raw)]
        if raw.endswith(".0") and len(groups) > 1 and groups[-2][1] - groups[-2][0] >= 8:
            groups.pop()  # 3273014506900003.0: a number a spreadsheet wrote as a float
        # a number may end and the next begin only where a space parts them ("2 0812 3456 7890"); groups
        # joined by "-" or "." are one number ("0018-0300-650029" holds no phone number)
        spaced = [i == 0 or not _JOINED.search(text[groups[i - 1][1]:groups[i][0]]) for i in range(len(groups))]
        # a sentence end parts two numbers ("kartu 4556737586899855. 2 pcs"): no number reaches over it
        last = [len(groups) - 1] * len(groups)
        for k in range(len(groups) - 1, 0, -1):
            if _SENTENCE_GAP.fullmatch(text, groups[k - 1][1], groups[k][0]):
                spaced[k] = True
                last[k - 1] = k - 1
            else:
                last[k - 1] = last[k]
        total = [0]
        for a, b in groups:
            total.append(total[-1] + b - a)
        i = 0
        while i < len(groups):
            if not spaced[i] or (i == 0 and money):
                i += 1
                continue
            for j in range(min(last[i], i + _MAX_GROUPS - 1), i - 1, -1):
                if j + 1 < len(groups) and not spaced[j + 1]:
                    continue
                n_digits = total[j + 1] - total[i]
                if n_digits > _MAX_DIGITS:
                    continue
                if n_digits < 8:
                    break
                s, e = groups[i][0], groups[j][1]
                digits = "".join(text[a:b] for a, b in groups[i:j + 1])
                if any(groups[k][1] - groups[k][0] <= 2 and not text[groups[k - 1][1]:groups[k][0]].strip()
                       and text[groups[k][0] - 1] != "(" for k in range(i + 1, j + 1)):
                    continue  # after a space a number goes on with 3 digits or more: "hubungi 081234567890 1x",
                    # "32 73 01 45" are other numbers ("+62 (0)812" may)
                date = _DATE.match(text, groups[i][0])
                if date and (date.end() >= e or text[date.end()] in " \u00a0"):
                    continue  # 07-10-2020, 2024.01.31 (but 11.08.15.100640.2414 is a NIK written with dots)
                if _THOUSANDS.match(text[groups[i][0]:e]):
                    continue  # 1.500.000: an amount
                plus = i == 0 and raw.lstrip("(").startswith("+")
                if plus:
                    s = run.start()
                elif text[s - 1:s] == "(":
                    s -= 1
                if text[e:e + 1] == ")" and "(" in text[s:e]:
                    e += 1
                lengths = [b - a for a, b in groups[i:j + 1]]
                fours = j > i and (all(n == 4 for n in lengths[:-1]) or lengths == [4, 6, 5])
                spaced_any = any(not text[groups[k - 1][1]:groups[k][0]].strip(" \u00a0()+")
                                 and text[groups[k - 1][1]:groups[k][0]] != ")" for k in range(i + 1, j + 1))
                kind = _classify(text, s, e, digits, fours, plus, tuple(lengths) if spaced_any else None)
                if kind:
                    found.append(Finding(kind, s, e, text[s:e]))
                    i = j
                    break
            i += 1
    return found


# --- e-mail --------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_\-])?@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*"
                    r"\.[A-Za-z]{2,24}(?![\w\-@])")

# --- addresses -----------------------------------------------------------------------------------------------

_STRONG = r"jl|jln|gg|komp|kompl|perum|dsn|kp"
_WEAK = r"jalan|gang|komplek|kompleks|perumahan|dusun"
_WORD = r"[A-Za-z][\w'’.\-]*"
_NOT_NAME = r"(?!(?i:no|nomor|nmr|rt|rw|kel|kec|kelurahan|kecamatan|desa|kab|kota|jl|jln|jalan|gg|gang)\b)"
_RTRW = (r"(?i:rt)\s?[.:]?\s?\d{1,3}\s?(?:/|,|\s)\s?(?i:rw)\s?[.:]?\s?\d{1,3}"
         r"|(?i:rt\s?/\s?rw)\s?[.:]?\s?\d{1,3}\s?/\s?\d{1,3}")
_UNITS = (r"km|m|meter|mtr|jam|menit|mnt|detik|hari|kali|x|%|rb|ribu|jt|juta|k|kg|gr|gram|cm|mm|pcs|pc|buah|bh|orang|"
          r"org|minggu|bulan|bln|tahun|thn|th|lantai|lt|unit|porsi|lembar|set|inch|in|liter|l|ml")
# the second word of a village or district name ("Kebayoran Baru", "Denpasar Barat"); any other capitalized word
# after the name counts only before a comma or the end, as it may open the next sentence
_AREA_WORDS = ("Barat Timur Utara Selatan Tengah Baru Lama Jaya Raya Indah Permai Asri Makmur Sari Kulon Wetan Lor "
               "Kidul Hilir Hulu Ilir Ulu Dalam Luar Atas Bawah Besar Kecil Pusat Kota Satu Dua Tiga").split()
_AREA_SUFFIX = "(?:" + "|".join(_AREA_WORDS + [w.upper() for w in _AREA_WORDS]) + r"|I{1,3}|IV|V)\b"  # not "besar"
_ADDRESS = re.compile(
    rf"(?<![\w])(?P<key>(?i:(?:{_STRONG})\b\.?|(?:{_WEAK})\b))\s*"
    rf"(?P<name>(?:\d{{1,3}}\s+)?{_NOT_NAME}{_WORD}(?:\s+{_NOT_NAME}{_WORD}){{0,6}})"
    rf"(?P<rest>,?\s*(?:(?P<marker>(?i:no|nomor|nmr)\b\.?\s*:?\s*)\d{{1,4}}[A-Za-z]?(?:\s?[/-]\s?\d{{1,4}}[A-Za-z]?)?"
    rf"|(?P<bare>\d{{1,4}}[A-Za-z]?)(?![\w.,]?\d)(?!\s*(?i:{_UNITS})\b))?"
    rf"(?:,?\s*(?P<rtrw>{_RTRW}))?)"
    rf"(?P<admin>(?:,?\s*(?i:kel\.|kelurahan|desa|ds\.|kec\.|kecamatan|kab\.|kabupaten|kota|kodya)\s*{_WORD}"
    rf"(?:\s+{_NOT_NAME}(?:{_AREA_SUFFIX}|[A-Z][\w'’\-]*(?=\s*(?:[,;]|\.(?!\w)|$|\d{{5}})))){{0,2}})*"
    rf"(?:,?\s*\d{{5}}(?!\d))?)")
_RTRW_ALONE = re.compile(rf"(?<![\w])(?:{_RTRW})(?![\w])")


def _addresses(text: str) -> list[Finding]:
    found = []
    position = 0
    while (m := _ADDRESS.search(text, position)) is not None:
        position = m.start() + 1  # a match turned down may hold a street further on: search again inside it
        has_number = m.group("marker") is not None or m.group("bare") is not None
        if not has_number and not m.group("rtrw"):
            continue
        strong = m.group("key").lower().rstrip(".") in _STRONG.split("|")
        if not strong and not m.group("rtrw") and not m.group("name")[:1].isupper():
            # "jalan kaki 2 km" is a walk and "jalan ke toko beli sepatu no 42" a size; "Jalan Melati 5" and
            # "jalan melati no 5" are streets
            if m.group("bare") is not None or len(m.group("name").split()) > 3:
                continue
        end = m.end("admin") if m.group("admin").strip() else m.end("rest")
        found.append(Finding("address", m.start(), end, text[m.start():end]))
        position = end
    covered = {i for f in found for i in range(f.start, f.end)} if found else set()
    for m in _RTRW_ALONE.finditer(text):
        if m.start() not in covered:
            found.append(Finding("address", m.start(), m.end(), m.group()))
    return found


# --- all together --------------------------------------------------------------------------------------------

_MAYBE = re.compile(r"\d|@")


def find_pii(text: str, kinds: tuple[str, ...] | list[str] | None = None) -> list[Finding]:
    """Every piece of personal data in ``text``, sorted by position, spans never overlapping.

    ``kinds`` limits the search (default: all of KINDS). Text without a digit or an "@" holds none of them.
    """
    if not isinstance(text, str) or not _MAYBE.search(text):
        return []
    wanted = set(KINDS if kinds is None else kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown PII kind(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
    found: list[Finding] = []
    if "@" in text and "email" in wanted:
        found += [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]
    if "address" in wanted:
        found += _addresses(text)
    found += [f for f in _numbers(text) if f.kind in wanted]
    return _resolve(found)


def _resolve(found: list[Finding]) -> list[Finding]:
    """Non-overlapping spans: where two overlap, the longer one (an address swallows its house number)."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and f.start < kept[-1].end:
            if f.end - f.start > kept[-1].end - kept[-1].start:
                kept[-1] = f
            continue
        kept.append(f)
    return kept
