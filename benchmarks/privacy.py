"""Precision and recall of niaga.privacy's PII detection on real Indonesian texts with inserted PII.

The labelled set is built here, from a seed, and never stored: texts from the shared data (e-commerce tweets,
PRDECT-ID and Tokopedia product reviews, Tokopedia fashion reviews, IndoNLU SmSA comments, which name many
streets: "di jalan sumatera bandung"; held-out part 2 adds IndoNLU EmoT tweets) get 0–3 insertions each, at word boundaries:

- personal data made up by ``niaga.privacy.synthetic`` with a valid structure (NIKs with a real province code
  and birth date, mobile and landline numbers in the ways people type them, e-mail addresses, Luhn-valid card
  numbers of real schemes, account numbers of each bank's length next to the bank's name, street addresses
  with RT/RW), each inside a short phrase, with a cue word ("no hp", "NIK", "rek BCA") or bare;
- look-alikes that must stay untouched: prices ("Rp 150.000", "150rb"), invoice numbers, parcel tracking
  numbers, order ids, dates, sizes, quantities, times, walks along a street, bank names without an account.

The span of each inserted value is known; a real text may hold personal data of its own, and whatever is
found outside the inserted values counts as a false positive (none was found in the development part).

Split: a text is held out when the md5 of "dataset|row" is divisible by 3; each part has its own random stream,
some phrases (``TEST_ONLY``) appear only in the held-out parts, and 30 % of their values are typed in ways the
development part never shows (``unseen_spelling``: "+62 (0)812-...", a NIK in groups of four or with dots, an
e-mail in capitals, a card number with dots, "Jl.Melati No.5", "RT003"). Two rounds: held-out part 1 was
scored once (its figures are kept in ROUND_1), its errors were read and the rules fixed; held-out part 2, other
held-out texts with half of its unseen values in new spellings (``unseen_spelling_2``, written before it was
scored), is the clean figure. The rules were tuned on the
development part alone (``--dev-only``, ``--errors``); the held-out part is what the section reports.

Scoring, per kind: a found value is correct when an inserted value of the same kind has the same span
(exact) or overlaps it (overlap); precision = correct found / found, recall = inserted values found /
inserted. "Masked" counts an inserted value as covered when found spans of any kind cover all its characters:
what matters when masking. Look-alikes: the share of inserted look-alikes any found span touches.

Run: python benchmarks/privacy.py [--dev-only] [--errors N [--part dev|held_out_1]]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.config import data_path  # noqa: E402
from niaga.data.io import read_table  # noqa: E402
from niaga.privacy import KINDS, find_pii  # noqa: E402
from niaga.privacy import synthetic as syn  # noqa: E402

SEED = 18
TEXTS_PER_SOURCE = {"dev": 300, "held_out_1": 450, "held_out_2": 450}
UNSEEN_SHARE = 0.3  # share of held-out values typed in a way the development part never shows
SOURCES = {  # name: (path parts, read options, text column)
    "ecommerce_tweets": (("text", "ecommerce_tweets_labelled", "tweets_train.csv"), {}, "text"),
    "prdect_id": (("text", "prdect_id", "prdect_id_train.csv"), {}, "Customer Review"),
    "tokopedia_2019": (("text", "tokopedia_product_reviews_2019", "tokopedia-product-reviews-2019.csv.gz"), {}, "text"),
    "tokopedia_fashion": (("text", "tokopedia_fashion_reviews", "clean_test_data.csv"), {}, "review"),
    "indonlu_smsa": (("text", "indonlu_smsa", "train_preprocess.tsv"), {"header": None, "names": ["text", "label"]},
                     "text"),
}
# held-out part 2 also reads these, as round 1 used every held-out tweet and fashion review
SOURCES_2 = {
    "tokopedia_fashion_train": (("text", "tokopedia_fashion_reviews", "clean_train_data.csv"), {}, "review"),
    "indonlu_emot": (("text", "indonlu_emot", "train_preprocess.csv"), {}, "tweet"),
}

# phrases around an inserted value; {v} the value, {bank} and {name} for accounts
PHRASES = {
    "phone": ["no hp {v}", "wa {v}", "hubungi {v}", "{v}", "kontak saya di {v} ya", "WA: {v}", "telp {v}"],
    "nik": ["NIK {v}", "no ktp {v}", "{v}", "nik saya {v}", "KTP: {v}"],
    "email": ["email {v}", "{v}", "kirim ke {v}", "email saya {v} kak"],
    "card": ["kartu kredit {v}", "cc {v}", "{v}", "no kartu {v}"],
    "bank_account": ["transfer ke {bank} {v}", "rek {bank} {v} a.n. {name}", "no. rek {v} ({bank})", "norek {bank}: {v}"],
    "address": ["alamat: {v}", "kirim ke {v}", "{v}", "alamat saya {v}"],
}
TEST_ONLY = {
    "phone": ["nomor saya {v}", "bisa telp ke {v}", "cp {v} (admin)"],
    "nik": ["nomor induk kependudukan: {v}", "NIK: {v} a.n. {name}"],
    "email": ["e-mail: {v}", "hub {v}"],
    "card": ["no. kartu: {v}", "pakai visa {v}"],
    "bank_account": ["{bank} {v} a/n {name}", "rekening {bank} nomor {v}", "tf ke {v} {bank}"],
    "address": ["tinggal di {v}", "domisili {v}"],
}
LOOKALIKE_PHRASES = {
    "price": ["harga {v}", "{v}", "total {v}", "bayar BCA {v}"],
    "invoice": ["invoice {v}", "{v}", "no pesanan {v}"],
    "tracking": ["resi {v}", "no resi: {v}", "{v}", "cek resi {v} belum update"],
    "order_id": ["order id {v}", "{v}", "pesanan {v}"],
    "date": ["tgl {v}", "{v}", "pesan tanggal {v}"],
    "size": ["{v}", "pesan {v}"],
    "quantity": ["{v}", "sudah {v}"],
    "time": ["{v}", "sampai {v}"],
    "walk": ["{v}"],
    "bank_no_number": ["{v}"],
}


def load_texts(part: str) -> list[tuple[str, str]]:
    """(source|row, text) of the part's base texts, sampled with the seed; held_out_2 takes none of held_out_1's."""
    rng = random.Random(f"{SEED}-{'dev' if part == 'dev' else 'test'}-texts")
    rng_2 = random.Random(f"{SEED}-held_out_2-texts")
    chosen = []
    for name, (parts, options, column) in {**SOURCES, **(SOURCES_2 if part == "held_out_2" else {})}.items():
        frame = read_table(data_path(*parts), **options)
        texts = frame[column].astype(str).tolist()
        rows = [i for i, t in enumerate(texts) if t.strip() and t != "nan"
                and (int(hashlib.md5(f"{name}|{i}".encode()).hexdigest(), 16) % 3 == 0) == (part != "dev")]
        picked = rng.sample(rows, min(TEXTS_PER_SOURCE[part], len(rows))) if name in SOURCES else []
        if part == "held_out_2":
            rest = sorted(set(rows) - set(picked))
            picked = rng_2.sample(rest, min(TEXTS_PER_SOURCE[part], len(rest)))
        chosen += [(f"{name}|{i}", texts[i]) for i in picked]
    return chosen


def value_for(kind: str, rng: random.Random) -> dict:
    if kind == "bank_account":
        bank, number = syn.bank_account(rng)
        return {"v": number, "bank": rng.choice((bank, bank.upper(), bank.lower())), "name": _name(rng)}
    maker = {"phone": syn.phone, "nik": syn.nik, "email": syn.email, "card": syn.card, "address": syn.address}[kind]
    return {"v": maker(rng), "name": _name(rng)}


def unseen_spelling(kind: str, value: str, rng: random.Random) -> str:
    """The held-out part's own ways of typing a value, never seen while the rules were tuned."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if kind == "phone" and digits.startswith(("08", "628")):
        national = digits[1:] if digits.startswith("0") else digits[2:]
        return rng.choice((f"+62 (0){national[:3]}-{national[3:7]}-{national[7:]}", f"(+62) {national[:3]} {national[3:7]} {national[7:]}",
                           f"0{national[:3]} {national[3:6]} {national[6:]}", f"62 {national[:3]} {national[3:7]} {national[7:]}"))
    if kind == "nik":
        return rng.choice((" ".join(digits[i:i + 4] for i in range(0, 16, 4)), f"{digits[:6]} {digits[6:12]} {digits[12:]}",
                           f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:12]}.{digits[12:]}"))
    if kind == "email":
        local, _, domain = value.partition("@")
        return rng.choice((value.upper(), f"{local}+toko@{domain}", f"{local.title()}@{domain.title()}"))
    if kind == "card" and len(digits) == 16:
        return rng.choice((".".join(digits[i:i + 4] for i in range(0, 16, 4)), "  ".join(digits[i:i + 4] for i in range(0, 16, 4))))
    if kind == "bank_account":
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    if kind == "address":
        return rng.choice((value.upper(), value.replace("Jl. ", "Jl.").replace("No. ", "No."),
                           value.replace("RT ", "RT").replace("RW ", "RW").replace("No. ", "no.")))
    return value


def unseen_spelling_2(kind: str, value: str, rng: random.Random) -> str:
    """Round 2's held-out spellings, written before round 2 was scored and never run through the rules before."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if kind == "phone" and digits.startswith(("08", "628")):
        n = digits[1:] if digits.startswith("0") else digits[2:]
        return rng.choice((f"+62.{n[:3]}.{n[3:7]}.{n[7:]}", f"+62{n[:3]}-{n[3:7]}-{n[7:]}", f"(0{n[:3]}) {n[3:7]} {n[7:]}",
                           f"62-{n[:3]}-{n[3:7]}-{n[7:]}", f"0{n[:3]}-{n[3:6]}-{n[6:]}"))
    if kind == "nik":
        return rng.choice(("-".join(digits[i:i + 4] for i in range(0, 16, 4)), f"{digits[:6]}.{digits[6:12]}.{digits[12:]}"))
    if kind == "email":
        local, _, domain = value.partition("@")
        return rng.choice((f"{local.replace('.', '-')}@{domain}", f"{local}@{domain.replace('.com', '.co.id')}"))
    if kind == "card":
        return f"{digits[:4]}-{digits[4:10]}-{digits[10:]}" if len(digits) == 15 else rng.choice(
            ("-".join(digits[i:i + 4] for i in range(0, 16, 4)), f"{digits[:4]} {digits[4:8]} {digits[8:12]} {digits[12:]}"))
    if kind == "bank_account":
        return rng.choice((".".join(digits[i:i + 4] for i in range(0, len(digits), 4)), " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))))
    if kind == "address":
        return rng.choice((value.replace("No. ", "no").replace("Nomor ", "no"), value.replace(" No", ", No", 1),
                           value.lower().replace("rt ", "rt").replace("rw ", "rw")))
    return value


def _name(rng: random.Random) -> str:
    return f"{rng.choice(syn.FIRST_NAMES).title()} {rng.choice(syn.LAST_NAMES).title()}"


def snippet(phrase: str, values: dict) -> tuple[str, int, int]:
    """The phrase filled in, and the span of {v} in it."""
    before, after = phrase.split("{v}")
    before, after = before.format(**values), after.format(**values)
    return before + values["v"] + after, len(before), len(before) + len(values["v"])


def build(part: str) -> list[dict]:
    """Texts with inserted values: {"id", "text", "gold": [(kind, start, end)], "lookalikes": [(kind, start, end)],
    "cases": [(case, label, start, end)]} (``cases``: the values of the two patterns of issue 25, see ``case_for``)."""
    rng = random.Random(f"{SEED}-{'test' if part == 'held_out_1' else part}-insert")
    rng_cases = random.Random(f"{SEED}-{part}-cases")  # its own stream: the insertions above stay as they were
    items = []
    for key, base in load_texts(part):
        text = base
        spans: list[list] = []  # [label, kind, start, end, case] of each inserted value
        phrases_at: list[tuple[int, int]] = []  # where each inserted phrase lies
        for _ in range(rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]):
            if rng.random() < 0.65:
                kind = rng.choice(KINDS)
                phrases = PHRASES[kind] + (TEST_ONLY[kind] if part != "dev" else [])
                label, phrase, values = "pii", rng.choice(phrases), value_for(kind, rng)
                if part != "dev" and rng.random() < UNSEEN_SHARE:
                    spell = unseen_spelling_2 if part == "held_out_2" and rng.random() < 0.5 else unseen_spelling
                    values["v"] = spell(kind, values["v"], rng)
            else:
                kind, value = syn.lookalike(rng)
                label, phrase, values = "lookalike", rng.choice(LOOKALIKE_PHRASES[kind]), {"v": value}
            text = insert(rng, text, spans, phrases_at, label, kind, phrase, values)
        if rng_cases.random() < CASE_SHARE:
            text = insert(rng_cases, text, spans, phrases_at, *case_for(part, rng_cases))
        items.append({"id": key, "text": text,
                      "gold": [(k, s, e) for label, k, s, e, _ in spans if label == "pii"],
                      "lookalikes": [(k, s, e) for label, k, s, e, _ in spans if label == "lookalike"],
                      "cases": [(case, label, s, e) for label, _, s, e, case in spans if case]})
    return items


def insert(rng: random.Random, text: str, spans: list[list], phrases_at: list[tuple[int, int]], label: str, kind: str,
           phrase: str, values: dict, case: str | None = None) -> str:
    """``text`` with the phrase put in at a word boundary outside earlier phrases; ``spans`` and ``phrases_at``
    follow. A value "q" in ``values`` (the number after a sentence end) is a look-alike of its own."""
    piece, s, e = snippet(phrase, values)
    cuts = [0] + [i + 1 for i, ch in enumerate(text) if ch == " "] + [len(text)]
    cuts = [c for c in cuts if not any(a < c < b for a, b in phrases_at)]  # never inside an earlier phrase
    at = rng.choice(cuts)
    left, right = text[:at], text[at:]
    piece = (" " if left and not left.endswith(" ") else "") + piece + (" " if right and not right.startswith(" ") else "")
    offset = 1 if left and not left.endswith(" ") else 0
    for span in spans:
        if span[2] >= at:
            span[2] += len(piece)
            span[3] += len(piece)
    phrases_at[:] = [(a + len(piece), b + len(piece)) if a >= at else (a, b) for a, b in phrases_at]
    phrases_at.append((at, at + len(piece)))
    if label == "lookalike" and case:  # the whole phrase, cue word and all, must stay
        spans.append([label, kind, at + offset, at + len(piece.rstrip(" ")), case])
    else:
        spans.append([label, kind, at + offset + s, at + offset + e, case])
    if label == "pii" and "{q}" in phrase:
        q = piece.index(values["q"], offset + e)
        spans.append(["lookalike", "number_after_sentence_end", at + q, at + q + len(values["q"]), case])
    return left + piece + right


# Issue 25's two patterns, each with its look-alikes: (phrases of every part, phrases of the held-out parts only)
CASE_SHARE = 0.3  # share of texts that get one of them
LABELLED_NIK = (["NIK saya {v}", "no KTP {v}", "NIK: {v}", "KTP {v} a.n. {name}", "e-KTP {v}"],
                ["no. identitas {v}", "nomor induk {v}", "nomor induk kependudukan: {v}", "nik saya {v} ya kak",
                 "No.KTP {v}"])
SENTENCE_END = {"card": (["kartu {v}. {q}", "cc {v}. {q}", "{v}. {q}"], ["no. kartu {v}. {q} ya", "pakai visa {v}. {q}"]),
                "nik": (["NIK {v}. {q}", "{v}. {q}"], ["ktp saya {v}. {q}", "nomor induk kependudukan {v}. {q}"]),
                "phone": (["wa {v}. {q}", "{v}. {q}"], ["hubungi {v}. {q}", "no hp: {v}. {q} ya"])}
# a NIK word and a sentence end next to numbers that are no one's: all must stay
LABEL_LOOKALIKES = (["foto KTP {v}", "KTP hilang, {v}", "NIK belum terdaftar {v}"], ["upload KTP lalu {v}",
                                                                                   "kartu identitas {v}"])
STOP_LOOKALIKES = (["{v}. {q}", "harga {v}. {q}"], ["sampai {v}. {q}", "resi {v}. {q}"])


def _phrases(phrases: tuple[list[str], list[str]], part: str) -> list[str]:
    return phrases[0] + (phrases[1] if part != "dev" else [])


def case_for(part: str, rng: random.Random) -> tuple:
    """(label, kind, phrase, values, case) of one value of issue 25's patterns, or of a look-alike of them."""
    after = syn.lookalike(rng, rng.choice(("quantity", "time", "size")))[1]
    case = rng.choice(("labelled_nik", "sentence_end", "labelled_nik_lookalike", "sentence_end_lookalike"))
    if case == "labelled_nik":
        values = {"v": syn.nik_unchecked(rng), "name": _name(rng)}
        if part != "dev" and rng.random() < UNSEEN_SHARE:
            values["v"] = unseen_spelling("nik", values["v"], rng)
        return "pii", "nik", rng.choice(_phrases(LABELLED_NIK, part)), values, case
    if case == "sentence_end":
        kind = rng.choice(sorted(SENTENCE_END))
        values = {**value_for(kind, rng), "q": after}
        return "pii", kind, rng.choice(_phrases(SENTENCE_END[kind], part)), values, case
    looks = LABEL_LOOKALIKES if case == "labelled_nik_lookalike" else STOP_LOOKALIKES
    value = syn.lookalike(rng, rng.choice(("price", "date", "tracking", "quantity", "size", "invoice")))[1]
    return "lookalike", case, rng.choice(_phrases(looks, part)), {"v": value, "q": after}, case


def score(items: list[dict]) -> dict:
    counts = {k: Counter() for k in KINDS}
    looks = defaultdict(Counter)
    cases = defaultdict(Counter)  # issue 25's patterns: masked (values) or kept (look-alikes)
    errors = []
    start = time.perf_counter()
    predictions = [find_pii(item["text"]) for item in items]
    seconds = time.perf_counter() - start
    masked = Counter()
    for item, found in zip(items, predictions):
        for f in found:
            counts[f.kind]["found"] += 1
            same = [(k, s, e) for k, s, e in item["gold"] if k == f.kind and s < f.end and f.start < e]
            counts[f.kind]["correct_overlap"] += bool(same)
            counts[f.kind]["correct_exact"] += any(s == f.start and e == f.end for _, s, e in same)
            if not same:
                touched = [k for k, s, e in item["lookalikes"] if s < f.end and f.start < e]
                other = [k for k, s, e in item["gold"] if s < f.end and f.start < e]
                where = (f"look-alike {touched[0]}" if touched else f"inserted {other[0]}" if other
                         else "the original text")
                errors.append(("false positive", f.kind, where, item, f.start, f.end))
        for kind, s, e in item["gold"]:
            counts[kind]["gold"] += 1
            hit = [f for f in found if f.kind == kind and f.start < e and s < f.end]
            counts[kind]["found_overlap"] += bool(hit)
            counts[kind]["found_exact"] += any(f.start == s and f.end == e for f in hit)
            covered = sum(min(e, f.end) - max(s, f.start) for f in found if f.start < e and s < f.end)
            masked["gold"] += 1
            masked["covered"] += covered >= e - s
            if not any(f.start == s and f.end == e for f in hit):
                errors.append(("missed" if not hit else "span", kind,
                               " / ".join(f"{f.kind} {item['text'][f.start:f.end]!r}" for f in found
                                          if f.start < e and s < f.end), item, s, e))
        for kind, s, e in item["lookalikes"]:
            looks[kind]["inserted"] += 1
            looks[kind]["flagged"] += any(f.start < e and s < f.end for f in found)
        for case, label, s, e in item["cases"]:
            name = case if label == "pii" or case.endswith("lookalike") else f"{case}_number_after"
            cases[name]["inserted"] += 1
            if label == "pii":
                cases[name]["masked"] += sum(min(e, f.end) - max(s, f.start) for f in found
                                             if f.start < e and s < f.end) >= e - s
            else:
                cases[name]["kept"] += not any(f.start < e and s < f.end for f in found)
    rows = {}
    for kind in KINDS:
        c = counts[kind]
        rows[kind] = {"inserted": c["gold"], "found": c["found"],
                      "precision": _ratio(c["correct_overlap"], c["found"]),
                      "recall": _ratio(c["found_overlap"], c["gold"]),
                      "precision_exact": _ratio(c["correct_exact"], c["found"]),
                      "recall_exact": _ratio(c["found_exact"], c["gold"])}
    total = {key: sum(counts[k][key] for k in KINDS) for key in ("gold", "found", "correct_overlap", "found_overlap",
                                                                  "correct_exact", "found_exact")}
    rows["all"] = {"inserted": total["gold"], "found": total["found"],
                   "precision": _ratio(total["correct_overlap"], total["found"]),
                   "recall": _ratio(total["found_overlap"], total["gold"]),
                   "precision_exact": _ratio(total["correct_exact"], total["found"]),
                   "recall_exact": _ratio(total["found_exact"], total["gold"])}
    return {"texts": len(items), "characters": sum(len(i["text"]) for i in items), "kinds": rows,
            "masked_share": _ratio(masked["covered"], masked["gold"]),
            "cases": {name: {"inserted": c["inserted"], ("kept" if name.endswith(("lookalike", "after")) else "masked"):
                             c["kept"] + c["masked"], "share": _ratio(c["kept"] + c["masked"], c["inserted"])}
                      for name, c in sorted(cases.items())},
            "lookalikes": {k: {"inserted": v["inserted"], "flagged": v["flagged"]} for k, v in sorted(looks.items())},
            "false_positives_in_original_text": sum(1 for e in errors if e[0] == "false positive"
                                                    and e[2] == "the original text"),
            "false_positives_by_place": dict(Counter(f"{e[1]} in {e[2]}" for e in errors if e[0] == "false positive")),
            "texts_per_second": round(len(items) / seconds) if seconds else None, "_errors": errors}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def show_errors(errors: list, n: int) -> None:
    for what, kind, where, item, s, e in errors[:n]:
        text = item["text"]
        print(f"{what:<15} {kind:<13} {where:<22}\n    {item['id']}: ...{text[max(0, s - 40):s]}[[{text[s:e]}]]"
              f"{text[e:e + 30]}...".replace("\n", " "))


def markdown(parts: dict) -> str:
    pct = lambda v: "–" if v is None else f"{v:.1%}"  # noqa: E731
    dev, first, test = parts["dev"], parts["held_out_1"], parts["held_out_2"]
    lines = ["## Privacy: PII detection (benchmarks/privacy.py)", "",
             f"`niaga.privacy.find_pii` on real Indonesian texts (e-commerce tweets, PRDECT-ID and Tokopedia reviews, "
             "Tokopedia fashion reviews, IndoNLU SmSA) with synthetic personal data and look-alikes inserted at known "
             f"positions (seed {SEED}). The rules were tuned on a development part ({dev['texts']:,} texts). Held-out "
             f"part 1 ({first['texts']:,} other texts, phrases and 30 % of values typed in ways the development part "
             "never shows) was scored once; its errors were then read and fixed (\"(+62) 812…\", \"+62 (0)812…\", "
             "double spaces in card numbers, NIKs with dots, an amount just before a number, bank names around two "
             "numbers; then, for precision on lists of numbers, a reference word counts only right before a number and "
             "numbers typed with spaces must fall into known group shapes), so its figures after the fixes are no "
             "longer held-out. Held-out part 2 "
             f"({test['texts']:,} texts none of the others use, and new spellings written before it was scored) "
             "is the figure to quote: scored once; the one change after it (a NIK that a spreadsheet wrote as "
             "3273….0) leaves its figures as they were. Since issue 25 every part also holds the values and look-alikes of "
             "its two patterns (table below), so the counts include them. Its misses: bank accounts typed in fours with a last group "
             "of 1–2 digits (\"1791 0210 98\"), \"no40\" without a space, lower-case \"gang … 58\", a labelled NIK that "
             "an inserted phrase put before \"- 170 cm\" (a dash joins numbers); a card or phone after "
             "a bank word is called a bank account (masked all the same). A found value is correct when an inserted value of the same kind overlaps it; "
             "*exact* asks for the same span.", "",
             "| kind | inserted | found | precision | recall | precision (exact) | recall (exact) | held-out 1 before fixes P / R | dev P / R |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    before = parts.get("held_out_1_before_fixes", {}).get("kinds", {})
    for kind in list(KINDS) + ["all"]:
        r, d, b = test["kinds"][kind], dev["kinds"][kind], before.get(kind)
        name = f"**{kind}**" if kind == "all" else kind
        lines.append(f"| {name} | {r['inserted']} | {r['found']} | {pct(r['precision'])} | {pct(r['recall'])} | "
                     f"{pct(r['precision_exact'])} | {pct(r['recall_exact'])} | "
                     f"{pct(b['precision']) + ' / ' + pct(b['recall']) if b else '–'} | "
                     f"{pct(d['precision'])} / {pct(d['recall'])} |")
    looks = test["lookalikes"]
    flagged = sum(v["flagged"] for v in looks.values())
    lines += ["", f"Held-out 2: inserted values fully masked (covered by found spans of any kind) {pct(test['masked_share'])}; "
              f"look-alikes flagged {flagged} of {sum(v['inserted'] for v in looks.values())} "
              "(" + ", ".join(f"{k} {v['flagged']}/{v['inserted']}" for k, v in looks.items()) + "); "
              f"found in the original texts, outside any insertion, {test['false_positives_in_original_text']}. "
              "False positives by where they fell: " + (", ".join(f"{k} {v}" for k, v in
                                                              sorted(test["false_positives_by_place"].items())) or "none")
              + ". "
              f"Held-out 1 after the fixes: precision {pct(first['kinds']['all']['precision'])}, recall "
              f"{pct(first['kinds']['all']['recall'])}. Speed: {test['texts_per_second']:,} texts/s on one core.",
              "", *cases_markdown(test), "", "Known confusions: a card number typed in one piece whose digits also form a valid NIK (UnionPay 62…, "
              "Mastercard 51–55…, GPN 9360…) is called a NIK unless a word like \"kartu\" / \"cc\" precedes it; it is "
              "masked either way. A bank account needs a bank name or \"rek\" / \"a.n.\" within a few words. A number "
              "right after a reference word (\"transaksi\", \"resi\", \"order\") is left alone even when it is valid, "
              "unless it is a phone number typed with separators or +62."]
    return "\n".join(lines)


def cases_markdown(test: dict) -> list[str]:
    """Issue 25's two patterns on held-out part 2, before and after the fix, and the verdict on the goal."""
    pct = lambda v: "–" if v is None else f"{v:.1%}"  # noqa: E731
    names = {"labelled_nik": "a number labelled NIK / KTP / no. identitas / nomor induk whose codes do not validate",
             "sentence_end": "a card, NIK or phone number, a full stop, then another number (\"kartu 4556…. 2 pcs\")",
             "sentence_end_number_after": "look-alike: the number after that full stop (\"2 pcs\")",
             "labelled_nik_lookalike": "look-alike: a NIK word next to a price, date, size or tracking number",
             "sentence_end_lookalike": "look-alike: a price, date, size or tracking number, a full stop, a number"}
    now, before = test["cases"], ISSUE_25_BEFORE["cases"]
    looks = test["lookalikes"]
    kept = all(v["flagged"] == 0 for v in looks.values())
    met = test["masked_share"] >= 0.98 and all(now[k]["share"] >= 0.98 for k in ("labelled_nik", "sentence_end")) and kept
    lines = ["**Issue 25's two patterns** (held-out part 2; 30 % of its texts get one value or look-alike of them, "
             "from their own random stream, so the insertions above are those of earlier runs; the phrases were "
             "written, and the figures before the fix measured, before the fix was made; no phrase of the "
             "held-out parts was read to tune it):", "",
             "| case | inserted | masked / kept before the fix | after |", "|---|---:|---:|---:|"]
    for name, label in names.items():
        lines.append(f"| {label} | {now[name]['inserted']} | {pct(before[name]['share'])} | {pct(now[name]['share'])} |")
    lines += ["", f"All inserted values masked: {pct(ISSUE_25_BEFORE['masked_share'])} before the fix, "
              f"{pct(test['masked_share'])} after. Goal: ≥ 98 % masked and every look-alike of the new kinds kept "
              f"(every look-alike of every kind kept): **{'met' if met else 'not met'}**."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev-only", action="store_true", help="score the development part only; save nothing")
    parser.add_argument("--part", default="dev", choices=["dev", "held_out_1"],
                        help="the part whose errors --errors prints (held_out_1 was read once, to fix round 1)")
    parser.add_argument("--errors", type=int, default=0, help="print this many errors of --part")
    args = parser.parse_args()
    parts = {"dev": score(build("dev"))}
    if args.part != "dev":
        parts[args.part] = score(build(args.part))
    if args.errors:
        show_errors(parts[args.part]["_errors"], args.errors)
    if args.dev_only:
        for kind, row in parts["dev"]["kinds"].items():
            print(kind, row)
        print("masked", parts["dev"]["masked_share"], "lookalikes", parts["dev"]["lookalikes"], "fp original",
              parts["dev"]["false_positives_in_original_text"], "texts/s", parts["dev"]["texts_per_second"])
        print("issue 25 cases", parts["dev"]["cases"])
        return
    for part in ("held_out_1", "held_out_2"):
        parts.setdefault(part, score(build(part)))
    payload = {"seed": SEED, **{name: {k: v for k, v in r.items() if k != "_errors"} for name, r in parts.items()},
               "held_out_1_before_fixes": ROUND_1, "held_out_2_before_issue_25": ISSUE_25_BEFORE}
    save("privacy", payload, markdown({**parts, "held_out_1_before_fixes": ROUND_1}))


# Held-out part 2 with the cases of issue 25, scored with the rules before its fix (commit 64fe6ed's detect.py)
ISSUE_25_BEFORE = {"masked_share": 0.891, "cases": {
    "labelled_nik": {"inserted": 172, "masked": 24, "share": 0.1395},
    "labelled_nik_lookalike": {"inserted": 159, "kept": 159, "share": 1.0},
    "sentence_end": {"inserted": 170, "masked": 87, "share": 0.5118},
    "sentence_end_lookalike": {"inserted": 202, "kept": 201, "share": 0.995},
    "sentence_end_number_after": {"inserted": 170, "kept": 158, "share": 0.9294}}}

# Held-out part 1 as scored once, before its errors were read (benchmarks/results/privacy.json of round 1).
ROUND_1 = {"texts": 2046, "masked_share": 0.9578, "kinds": {
    "nik": {"inserted": 288, "found": 282, "precision": 1.0, "recall": 0.9792},
    "phone": {"inserted": 292, "found": 272, "precision": 1.0, "recall": 0.9315},
    "email": {"inserted": 292, "found": 292, "precision": 1.0, "recall": 1.0},
    "card": {"inserted": 254, "found": 230, "precision": 1.0, "recall": 0.9055},
    "bank_account": {"inserted": 276, "found": 277, "precision": 0.9928, "recall": 0.9964},
    "address": {"inserted": 280, "found": 282, "precision": 0.9929, "recall": 1.0},
    "all": {"inserted": 1682, "found": 1635, "precision": 0.9976, "recall": 0.9697}}}


if __name__ == "__main__":
    main()
