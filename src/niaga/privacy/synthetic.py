"""Synthetic personal data with a valid structure, and the look-alikes that must not be taken for it.

For tests and for the labelled evaluation set (``benchmarks/privacy.py``): every generator takes a
``random.Random`` so a seed gives the same data again. The values are made up: NIKs with a real province code
and a valid date, mobile numbers with real operator prefixes, Luhn-valid card numbers with real issuer
prefixes, account numbers of each bank's length, street addresses with RT/RW.
"""

from __future__ import annotations

import random

from niaga.privacy.validators import PROVINCE_CODES, luhn

MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "823", "851", "852", "853", "814", "815", "816", "855", "856",
                   "857", "858", "817", "818", "819", "859", "877", "878", "831", "832", "833", "838", "895", "896",
                   "897", "898", "899", "881", "882", "883", "887", "888", "889")
AREA_CODES = ("21", "22", "24", "31", "61", "274", "341", "361", "411", "511", "711", "751", "778")
FIRST_NAMES = ("budi", "siti", "agus", "dewi", "rina", "andi", "putri", "eko", "wahyu", "nur", "fitri", "rizky", "dian",
               "yusuf", "indah", "bayu", "ayu", "hendra", "lestari", "fajar", "sri", "ahmad", "nadia", "joko")
LAST_NAMES = ("santoso", "wijaya", "pratama", "saputra", "lestari", "hidayat", "kusuma", "siregar", "nasution",
              "halim", "gunawan", "setiawan", "rahman", "utami", "purnomo", "simanjuntak")
DOMAINS = ("gmail.com", "yahoo.com", "yahoo.co.id", "ymail.com", "outlook.com", "hotmail.com", "icloud.com",
           "gmail.co.id", "mail.ugm.ac.id", "student.ui.ac.id", "tokobaju.co.id", "telkom.net")
#: bank → account number length(s)
BANK_ACCOUNT_LENGTHS = {"BCA": (10,), "BNI": (10,), "BRI": (15,), "Mandiri": (13,), "CIMB Niaga": (13, 14),
                        "Permata": (10,), "BSI": (10,), "BTN": (16,), "Danamon": (10, 12), "Jago": (12,),
                        "SeaBank": (12,), "OCBC": (12,)}
CARD_PREFIXES = {"visa": ("4",), "mastercard": ("51", "52", "53", "54", "55", "2221", "2720"), "amex": ("34", "37"),
                 "jcb": ("3528", "3589"), "unionpay": ("62",), "gpn": ("9360",)}
CARD_LENGTHS = {"visa": 16, "mastercard": 16, "amex": 15, "jcb": 16, "unionpay": 16, "gpn": 16}
STREETS = ("Melati", "Sudirman", "Merdeka", "Kenanga", "Diponegoro", "Gatot Subroto", "Ahmad Yani", "Cempaka Putih Raya",
           "Raya Bogor", "Pahlawan", "Veteran", "Mawar", "Anggrek", "Kebon Jeruk", "Pemuda", "Soekarno Hatta",
           "Imam Bonjol", "Gajah Mada", "Hayam Wuruk", "Teuku Umar", "Kaliurang", "Margonda Raya", "Dr. Setiabudi",
           "Cendrawasih", "Flamboyan", "Cut Nyak Dien", "Panglima Polim", "Pattimura", "Sisingamangaraja")
VILLAGES = ("Sukajadi", "Cibeunying", "Menteng", "Tebet", "Lowokwaru", "Caturtunggal", "Sumbersari", "Cilandak",
            "Kebayoran Baru", "Panakkukang", "Medan Baru", "Denpasar Barat")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def nik(rng: random.Random, female: bool | None = None) -> str:
    """16 digits: a real province code, regency and district codes, date of birth (+40 for women), serial."""
    province = rng.choice(sorted(PROVINCE_CODES))
    regency = rng.choice([rng.randint(1, 29), rng.randint(71, 79)])
    district = rng.randint(1, 35)
    female = rng.random() < 0.5 if female is None else female
    month = rng.randint(1, 12)
    day = rng.randint(1, 28) + (40 if female else 0)
    year = rng.randint(0, 99)
    serial = rng.randint(1, 2999)
    return f"{province:02d}{regency:02d}{district:02d}{day:02d}{month:02d}{year:02d}{serial:04d}"


def nik_unchecked(rng: random.Random) -> str:
    """16 digits typed as a NIK whose codes do not validate: an unknown province, a regency or district code no
    region has, an impossible date of birth or a 0000 serial (a typo, or a number made up for a form). Labelled
    "NIK" / "KTP" by its writer, it is personal data all the same."""
    digits = list(nik(rng))
    flaw = rng.choice(("province", "regency", "district", "date", "serial"))
    if flaw == "province":
        digits[:2] = f"{rng.choice([p for p in range(10, 100) if p not in PROVINCE_CODES]):02d}"
    elif flaw == "regency":
        digits[2:4] = f"{rng.choice([*range(40, 71), *range(80, 100)]):02d}"
    elif flaw == "district":
        digits[4:6] = f"{rng.choice([0, *range(70, 100)]):02d}"
    elif flaw == "date":
        digits[6:10] = rng.choice((f"{rng.randint(32, 40):02d}{rng.randint(1, 12):02d}",
                                   f"{rng.randint(72, 99):02d}{rng.randint(1, 12):02d}",
                                   f"{rng.randint(1, 28):02d}{rng.choice((0, 13, 19, 31, 45)):02d}"))
    else:
        digits[12:] = "0000"
    return "".join(digits)


def phone(rng: random.Random, style: str | None = None) -> str:
    """A mobile number (most of them) or a landline, in one of the ways people type them."""
    styles = ("0-plain", "0-dash", "0-space", "+62-space", "+62-plain", "62-plain", "+62-dash", "landline-paren",
              "landline-dash", "0-dot")
    style = style or rng.choice(styles)
    if style.startswith("landline"):
        area = rng.choice(AREA_CODES)
        sub = str(rng.randint(2, 8)) + _digits(rng, 6 if len(area) == 2 else 5)
        return f"(0{area}) {sub}" if style == "landline-paren" else f"0{area}-{sub}"
    prefix = rng.choice(MOBILE_PREFIXES)
    rest = _digits(rng, rng.choice((7, 8, 8, 8, 9)))
    number = "8" + prefix[1:] + rest
    a, b, c = number[:3], number[3:3 + (len(number) - 3) // 2], number[3 + (len(number) - 3) // 2:]
    return {"0-plain": f"0{number}", "0-dash": f"0{a}-{b}-{c}", "0-space": f"0{a} {b} {c}", "0-dot": f"0{a}.{b}.{c}",
            "+62-space": f"+62 {a} {b} {c}", "+62-plain": f"+62{number}", "62-plain": f"62{number}",
            "+62-dash": f"+62-{a}-{b}-{c}"}[style]


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = rng.choice((f"{first}.{last}", f"{first}{last}", f"{first}_{last}{rng.randint(1, 99)}",
                        f"{first}{rng.randint(70, 2005)}", f"{first[0]}{last}", f"{last}.{first}"))
    return f"{local}@{rng.choice(DOMAINS)}"


def card(rng: random.Random, scheme: str | None = None, grouped: bool | None = None) -> str:
    """A Luhn-valid card number of a real scheme, typed in groups of four or in one piece."""
    scheme = scheme or rng.choice(sorted(CARD_PREFIXES))
    prefix = rng.choice(CARD_PREFIXES[scheme])
    length = CARD_LENGTHS[scheme]
    body = prefix + _digits(rng, length - len(prefix) - 1)
    check = next(d for d in "0123456789" if luhn(body + d))
    number = body + check
    grouped = rng.random() < 0.6 if grouped is None else grouped
    if not grouped:
        return number
    if length == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    sep = rng.choice((" ", " ", "-"))
    return sep.join(number[i:i + 4] for i in range(0, length, 4))


def bank_account(rng: random.Random) -> tuple[str, str]:
    """(bank name, account number of that bank's length)."""
    bank = rng.choice(sorted(BANK_ACCOUNT_LENGTHS))
    n = rng.choice(BANK_ACCOUNT_LENGTHS[bank])
    number = str(rng.randint(1, 9)) + _digits(rng, n - 1)
    if rng.random() < 0.15 and n == 10:
        number = f"{number[:3]}-{number[3:6]}-{number[6:]}"
    return bank, number


def address(rng: random.Random) -> str:
    """A street address: Jl. / Jalan / Gg. / Komplek / Perum, a name, a number, often RT/RW, sometimes more."""
    key = rng.choice(("Jl.", "Jl.", "Jl", "Jln.", "Jalan", "jl.", "Gg.", "Gang", "Komplek", "Perum"))
    street = rng.choice(STREETS)
    if key in ("Komplek", "Perum"):
        street = f"{rng.choice(('Griya', 'Taman', 'Bumi', 'Villa'))} {rng.choice(STREETS)} Blok {rng.choice('ABCDEFG')}{rng.randint(1, 12)}"
    if key == "jl.":
        street = street.lower()
    number = rng.choice((f"No. {rng.randint(1, 250)}", f"No.{rng.randint(1, 99)}{rng.choice(('', 'A', 'B'))}",
                         f"no {rng.randint(1, 120)}", str(rng.randint(1, 300)), f"Nomor {rng.randint(1, 80)}"))
    parts = [f"{key} {street} {number}"]
    if rng.random() < 0.55:
        rt, rw = rng.randint(1, 15), rng.randint(1, 12)
        parts.append(rng.choice((f"RT {rt:02d}/RW {rw:02d}", f"RT.{rt:03d}/RW.{rw:03d}", f"rt {rt} rw {rw}",
                                 f"RT/RW {rt:03d}/{rw:03d}")))
    if rng.random() < 0.35:
        parts.append(f"Kel. {rng.choice(VILLAGES)}")
    if rng.random() < 0.25:
        parts.append(f"Kec. {rng.choice(VILLAGES)}")
    return ", ".join(parts) if rng.random() < 0.6 else " ".join(parts)


# --- look-alikes: none of these is personal data ---------------------------------------------------------------

def lookalike(rng: random.Random, kind: str | None = None) -> tuple[str, str]:
    """(kind of look-alike, text): prices, invoice and order numbers, tracking numbers, dates, sizes,
    quantities, times, a walk along a street."""
    makers = {
        "price": lambda: rng.choice((f"Rp {rng.randint(5, 999)}.{rng.randint(0, 999):03d}",
                                     f"Rp{rng.randint(1, 20)}.{rng.randint(0, 999):03d}.{rng.randint(0, 999):03d}",
                                     f"{rng.randint(10, 999)}rb", f"{rng.randint(1, 9)},{rng.randint(1, 9)}jt",
                                     f"IDR {rng.randint(10, 9999) * 1000}", f"harga {rng.randint(10, 500)}k",
                                     f"Rp. {rng.randint(1, 99)}.{rng.randint(0, 999):03d}.000")),
        "invoice": lambda: rng.choice((f"INV/2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}/MPL/{_digits(rng, 10)}",
                                       f"INV/20{rng.randint(19, 25)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}/XX/V/{_digits(rng, 9)}",
                                       f"INV-{_digits(rng, 8)}-{_digits(rng, 6)}")),
        "tracking": lambda: rng.choice((f"JP{_digits(rng, 10)}", f"SPXID{_digits(rng, 12)}", f"JX{_digits(rng, 10)}",
                                        f"00{_digits(rng, 10)}", f"CGK{_digits(rng, 13)}", f"TKP01-{_digits(rng, 10)}",
                                        f"JD{_digits(rng, 10)}", f"IDS{_digits(rng, 12)}", f"1000{_digits(rng, 10)}",
                                        f"LP{_digits(rng, 11)}")),
        "order_id": lambda: rng.choice((f"{rng.randint(20, 25)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                                        f"{''.join(rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789') for _ in range(8))}",
                                        f"#{_digits(rng, 9)}", f"BL{_digits(rng, 2)}{rng.choice('ABCDEF')}{_digits(rng, 5)}")),
        "date": lambda: rng.choice((f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-20{rng.randint(19, 25)}",
                                    f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/20{rng.randint(19, 25)}",
                                    f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                                    f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(19, 25)}",
                                    f"{rng.randint(1, 28)} {rng.choice(('Jan', 'Maret', 'Agustus', 'Des'))} 20{rng.randint(19, 25)}")),
        "size": lambda: rng.choice((f"size {rng.randint(36, 45)}", f"ukuran {rng.choice(('S', 'M', 'L', 'XL'))}",
                                    f"no {rng.randint(36, 44)}", f"{rng.randint(150, 185)} cm {rng.randint(40, 95)} kg",
                                    f"{rng.randint(10, 65)} inch")),
        "quantity": lambda: rng.choice((f"{rng.randint(2, 12)} pcs", f"beli {rng.randint(2, 5)}", f"{rng.randint(1, 3)} lusin",
                                        f"x{rng.randint(2, 6)}", f"{rng.randint(2, 50)} buah")),
        "time": lambda: rng.choice((f"jam {rng.randint(7, 22)}.{rng.randint(0, 59):02d}", f"{rng.randint(1, 23):02d}:{rng.randint(0, 59):02d} WIB",
                                    f"{rng.randint(2, 14)} hari")),
        "walk": lambda: rng.choice((f"jalan kaki {rng.randint(1, 9)} km", f"jalan {rng.randint(2, 30)} menit",
                                    f"berjalan {rng.randint(2, 5)} hari", f"di jalan {rng.choice(STREETS).lower()}")),
        "bank_no_number": lambda: rng.choice(("bayar via BCA", f"transfer BNI {rng.randint(2, 5)} kali gagal",
                                              f"mandiri cashback {rng.randint(10, 50)}rb")),
    }
    kind = kind or rng.choice(sorted(makers))
    return kind, makers[kind]()
