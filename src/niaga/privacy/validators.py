"""Checks that tell a real identifier from a number that only looks like one.

Each function takes the digits of a candidate (separators already removed) and says whether it has the
structure of that kind of identifier. They are pure and cheap: ``niaga.privacy.detect`` calls them on every
digit run it finds.
"""

from __future__ import annotations

#: Province codes that open a NIK (Kemendagri's list, the codes Dukcapil writes into the NIK). 91–96:
#: Papua and the provinces split from it in 2022 (Papua Barat 92, Papua Selatan 93, Papua Tengah 94,
#: Papua Pegunungan 95, Papua Barat Daya 96); NIKs issued before the split keep their old code.
PROVINCE_CODES = {
    11: "Aceh", 12: "Sumatera Utara", 13: "Sumatera Barat", 14: "Riau", 15: "Jambi", 16: "Sumatera Selatan",
    17: "Bengkulu", 18: "Lampung", 19: "Kepulauan Bangka Belitung", 21: "Kepulauan Riau",
    31: "DKI Jakarta", 32: "Jawa Barat", 33: "Jawa Tengah", 34: "DI Yogyakarta", 35: "Jawa Timur", 36: "Banten",
    51: "Bali", 52: "Nusa Tenggara Barat", 53: "Nusa Tenggara Timur",
    61: "Kalimantan Barat", 62: "Kalimantan Tengah", 63: "Kalimantan Selatan", 64: "Kalimantan Timur",
    65: "Kalimantan Utara",
    71: "Sulawesi Utara", 72: "Sulawesi Tengah", 73: "Sulawesi Selatan", 74: "Sulawesi Tenggara", 75: "Gorontalo",
    76: "Sulawesi Barat",
    81: "Maluku", 82: "Maluku Utara",
    91: "Papua", 92: "Papua Barat", 93: "Papua Selatan", 94: "Papua Tengah", 95: "Papua Pegunungan",
    96: "Papua Barat Daya",
}

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # the year is two digits: 29 Feb allowed


def nik_birth(digits: str) -> tuple[int, int, int, str] | None:
    """(day, month, two-digit year, "F" or "M") of a NIK's date of birth, or None when it is no date.

    A NIK is PP KK CC DDMMYY SSSS: province, regency/city, district, date of birth (40 added to the day
    for women) and a serial number.
    """
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = "M"
    if day > 40:
        day, sex = day - 40, "F"
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return None
    return day, month, year, sex


def is_nik(digits: str) -> bool:
    """16 digits: a known province code, a regency code (01–39 for a kabupaten, 71–79 for a kota: no province has
    more than 29 kabupaten), a district code 01–69, a valid date of birth (day + 40 for women) and a serial
    number that is not 0000."""
    return (len(digits) == 16 and digits.isdigit() and int(digits[:2]) in PROVINCE_CODES
            and (1 <= int(digits[2:4]) <= 39 or 71 <= int(digits[2:4]) <= 79) and 1 <= int(digits[4:6]) <= 69
            and nik_birth(digits) is not None and digits[12:] != "0000")


def luhn(digits: str) -> bool:
    """The Luhn checksum every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_scheme(digits: str) -> str | None:
    """The card scheme whose issuer prefix (IIN) and length the number has, or None.

    Visa 4 (13, 16, 19 digits); Mastercard 51–55 and 2221–2720 (16); American Express 34, 37 (15); JCB
    3528–3589 (16–19); Discover 6011, 644–649, 65 (16–19); UnionPay 62 (16–19); Indonesia's GPN debit
    cards 9360 (16–19).
    """
    n = len(digits)
    p2, p4 = int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (p4 == 6011 or 644 <= int(digits[:3]) <= 649 or p2 == 65) and 16 <= n <= 19:
        return "discover"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if p4 == 9360 and 16 <= n <= 19:
        return "gpn"
    return None


def is_card(digits: str) -> bool:
    """13–19 digits with a known issuer prefix and length for its scheme, and a valid Luhn checksum."""
    return 13 <= len(digits) <= 19 and digits.isdigit() and card_scheme(digits) is not None and luhn(digits)


TWO_DIGIT_AREAS = ("21", "22", "24", "31", "61")


def national_phone(digits: str, international: bool = False) -> str | None:
    """The number without its country prefix or trunk 0 (e.g. "81234567890"), or None.

    ``digits`` starts with 0, or with 62 (``international``: it was written with "+62" or "62"). Mobile
    numbers are 8 then 8–11 digits (0811..., 0895...); landlines are an area code of 2–3 digits (21
    Jakarta, 22 Bandung, 274 Yogyakarta, ...; it starts with 2–7, never 8 or 9) and a subscriber number,
    8–10 digits in all.
    """
    if international:
        if not digits.startswith("62"):
            return None
        rest = digits[2:]
        if rest.startswith("0"):  # "+62 (0)812...": the trunk 0 written after the country code
            rest = rest[1:]
    else:
        if not digits.startswith("0") or digits.startswith("00"):
            return None
        rest = digits[1:]
    if rest[:1] == "8":
        return rest if rest[1:2] != "0" and 9 <= len(rest) <= 12 else None
    if rest[:2] in TWO_DIGIT_AREAS:  # (021) 5551234, (021) 55512345
        return rest if len(rest) in (9, 10) and rest[2] not in "01" else None
    if rest[:1] in "2345679" and 8 <= len(rest) <= 10 and rest[3:4] not in "01":  # (0274) 512345
        return rest
    return None


def is_mobile(national: str) -> bool:
    return national.startswith("8")


def is_bank_account(digits: str) -> bool:
    """10–16 digits (BCA, BNI, BSI, Permata 10; Mandiri, CIMB 13–14; BRI 15), not all one digit."""
    return 10 <= len(digits) <= 16 and digits.isdigit() and len(set(digits)) > 1
