"""Payment methods named in a text, normalized (COD, transfer, GoPay, OVO, DANA, ShopeePay, ...), and
their false friends: "transfer data", "dana bantuan", "TF card", "maen CoD", a shop called Indomaret, a
wallet that was topped up or robbed rather than spent, a scammer who "minta transfer", a refund
"ditransfer balik", an ATM one stands at or draws cash from rather than pays through ("bayar ATM" is a
transfer). The aliases and every cue word are in ``resources/commerce_extraction.yaml``.
"""

from __future__ import annotations

import re

from niaga.social.extract_lexicon import Span, Tokens, in_words, lexicon


def _negated(before: list[str]) -> bool:
    """ "tanpa menggunakan kartu kredit", "bukan COD", "tidak bisa bayar pakai ...", "gabisa ngtap pake emoney"."""
    lex = lexicon()
    negations, modals = lex["negations"], lex["payment_modals"]
    for n, word in enumerate(before[:4]):
        if word in negations:
            between = before[:n]
            # only modal verbs up to the name, or one verb before the word that names the means ("bayar pakai")
            others = [w for w in between if w not in modals]
            return not others or len(others) == 1 and between[0] in lex["means_words"] and others[0] != between[0]
    return False


def _after_paying_word(before: list[str]) -> bool:
    """Whether a paying or means word comes right before (nearest first), perhaps with "di" between: "bayar
    ATM", "via atm bca", "pake atm manual", "di bayar di atm", "dipesan-bayar ATM"."""
    lex = lexicon()
    cues = lex["store_payment_cues"] | lex["means_words"]
    if before and before[0] == "di":
        before = before[1:]
    return bool(before) and before[0].rsplit("-", 1)[-1] in cues  # "dipesan-bayar ATM"


def _payment_ok(name: str, match: re.Match, tokens: Tokens, commerce: bool) -> bool:
    """Whether an alias of a payment method, at this place, names a way of paying.

    ``commerce``: whether the text is about buying at all (a commerce word or an amount of money);
    a wallet or a bank name in a text about nothing bought is news or chatter, not a payment.
    """
    lex = lexicon()
    before = tokens.before(match.start(), 4)
    after = tokens.after(match.end(), 5)
    following = " ".join(after[:3])
    if (_negated(before) or any(w in lex["payment_not_cues"] for w in before[:2])
            or name in lex["wallets"] and any(w in lex["payment_not_after"] for w in after)
            or any(following == w or following.startswith(w + " ")
                   for w in lex["payment_not_followed_by"].get(name, ()))
            or before and before[0] in lex["payment_not_preceded_by"].get(name, ())):
        return False
    if name == "DANA":  # the e-wallet, not funds: written as its brand ("DANA") or right after a paying word
        if after and in_words(after[0], lex["fund_words_after_dana"]):
            return False
        previous = tokens.index_before(match.start())
        brand = match.group(0).isupper() and not (
            previous >= 0 and tokens.text[tokens.starts[previous]:tokens.ends[previous]].isupper())
        return brand or bool(before and before[0] in lex["payment_cues"])
    if name == "COD" and match.group(0) == "CoD":  # Call of Duty
        return False
    if name in ("Indomaret", "Alfamart"):  # a shop as often as a payment channel
        return any(w in lex["store_payment_cues"] for w in before[:3])
    if name == "saldo":  # the balance pays only when it is spent on something
        spent = re.match(rf"\s*(?:\w+\s+){{0,4}}?(?:{'|'.join(lex['saldo_spent_words'])})"
                         r"|\s*(?:\w+\s+){0,2}?(?:tidak|tdk|ga|gak|gk|nggak|kurang)\s+cukup",
                         tokens.text[match.end():], re.IGNORECASE)
        return bool(spent) or bool(before and before[0] in lex["payment_cues"] - lex["saldo_not_spending_cues"])
    if name in lex["need_commerce"] and not commerce and not (
            before and before[0] in lex["store_payment_cues"] | {"pakai", "pake"}):
        return False
    if name == "transfer":
        if match.group(0).lower() in lex["channels_after_paying_word"] and not _after_paying_word(before):
            return False  # "di ATM tinggal dikit", "kartu atm bri": the machine, not a payment through it
        if any(w in lex["cash_withdrawal_words"] for w in before) or any(
                w in lex["topup_words"] for w in before) and any(w in lex["wallet_words"] for w in before[:3]):
            return False  # "tarik tunai melalui bca mobile", "mengisi gopay via atm bca"
        passive = match.group(0).lower().startswith("di") or bool(before and before[0] == "di")
        if passive and re.search(lex["refund_re"], tokens.text[:match.start()], re.IGNORECASE):
            return False  # "pengembalian dana ... sudah ditransfer": the refund was paid back, nothing was bought
        if match.group(0).isupper() and match.group(0).lower() in ("tf", "trf") and any(
                w in lex["tf_card_words"] for w in tokens.words):
            return False  # "TF card", "USB FM Radio TF"
        if any(w in lex["scam_words"] for w in tokens.words) and any(w in lex["transfer_asked"] for w in before[:2]):
            return False  # "ada yg mengaku dr bukalapak ... minta transfer"
    return True


def payments(text: str, tokens: Tokens, commerce: bool) -> list[tuple[str, Span]]:
    """(method, span) of every payment mention, in order; overlapping aliases go to the first method listed."""
    lex = lexicon()
    # "transfer ke sesama rekening": moving money between accounts, not paying for anything
    bank_to_bank = re.search(lex["bank_to_bank_re"], text, re.IGNORECASE) is not None
    taken: list[Span] = []
    found: list[tuple[str, Span]] = []
    for name, pattern in lex["payment_methods"].items():
        for match in pattern.finditer(text):
            span = match.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)  # claimed even when rejected: "gopay later" must not come back as GoPay
            if name == "transfer" and bank_to_bank:
                continue
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
