"""A synthetic Indonesian marketplace with the five abuse typologies and their honest look-alikes.

No shop publishes its abuse cases, so the tests and the benchmark run on this simulator. It writes the eight
tables of docs/marketplace-events.md (shared/docs) plus ``labels``, vectorized with numpy so that 30,000
accounts over 60 days take seconds. Nothing downstream may depend on its id formats or column order.

Honest look-alikes: households and boarding houses (kos) sharing an address written in variant forms (some
sharing a family tablet or a parent's wallet), carrier-grade NAT IPs shared by thousands, honest phone changes
and travellers, unlucky buyers, sellers with real quality problems, a flood week that delays one city's
deliveries, flash-sale bursts (11.11, 12.12, Ramadan), bulk resellers, new sellers with launch discounts.
Abusers vary in care: one device for all accounts or a fresh one each, bursty or spaced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TABLES = ("accounts", "sellers", "logins", "account_changes", "sessions", "orders", "refunds", "reviews")
STREETS = ("Mawar", "Melati", "Anggrek", "Kenanga", "Sudirman", "Diponegoro", "Gatot Subroto", "Merdeka",
           "Pahlawan", "Ahmad Yani", "Cempaka", "Flamboyan", "Dahlia", "Kartini", "Imam Bonjol", "Veteran",
           "Siliwangi", "Pemuda", "Kebon Jeruk", "Cendrawasih", "Rajawali", "Teuku Umar", "Hayam Wuruk", "Cikini")
STREETS = tuple(f"{name}{suffix}" for name in STREETS for suffix in ("", " Raya", " Indah", " Baru", " Timur", " Barat",
                                                                     " Utara", " Selatan", " Dalam", " Permai"))
CITIES = ("Jakarta", "Surabaya", "Bandung", "Medan", "Semarang", "Makassar", "Palembang", "Tangerang", "Depok",
          "Bekasi", "Yogyakarta", "Malang", "Denpasar", "Bogor", "Batam")
CITY_WEIGHTS = np.array([20, 10, 9, 7, 5, 4, 4, 6, 5, 6, 4, 3, 3, 4, 2], dtype=float)
CATEGORIES = ("fashion", "beauty", "home", "electronics", "food", "voucher", "pulsa", "sports", "toys", "books")
CATEGORY_WEIGHTS = np.array([22, 16, 14, 10, 12, 4, 6, 7, 5, 4], dtype=float)
CATEGORY_PRICE = np.array([150_000, 90_000, 200_000, 1_500_000, 60_000, 100_000, 50_000, 250_000, 120_000, 80_000])
RESELLABLE = np.array([c in ("electronics", "voucher", "pulsa") for c in CATEGORIES])
WALLETS = ("gopay", "ovo", "dana", "shopeepay", "va_bca", "va_mandiri", "va_bri", "cod", "credit_card", "paylater")
WALLET_WEIGHTS = np.array([18, 14, 12, 16, 8, 5, 5, 14, 3, 5], dtype=float)
GENERIC_REVIEWS = ("bagus", "mantap", "ok", "sesuai", "recommended", "good", "mantul", "top")
HONEST_REVIEWS = ("barang sesuai deskripsi, pengiriman cepat", "kualitas oke untuk harganya", "packing rapi, seller ramah",
                  "agak lama sampainya tapi barang bagus", "warna sedikit beda dari foto", "mantap",
                  "sudah dicoba, berfungsi dengan baik", "ukuran kekecilan, kecewa", "barang rusak waktu sampai",
                  "lumayan, sesuai harga", "respon seller lambat", "bagus", "puas belanja di sini, recommended",
                  "bahannya tipis", "original, terima kasih")
REFUND_REASONS = ("not_received", "damaged", "not_as_described", "wrong_item", "other")
#: the days marketplaces run flash sales on (month, day); Ramadan's start moves, so it is given per year
FLASH_DAYS = ((11, 11), (12, 12), (10, 10), (9, 9))
RAMADAN_START = {2025: "2025-03-01", 2026: "2026-02-18", 2027: "2027-02-08", 2028: "2028-01-28"}
DEFAULT_START = "2026-10-15"
DAY = 86_400


class Builder:
    """Accumulates rows of one table as column arrays and makes a frame at the end."""

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, **columns):
        lengths = [len(v) for v in columns.values() if np.ndim(v) > 0]
        n = max(lengths) if lengths else 1
        self.parts.append({k: (np.repeat(v, n) if np.ndim(v) == 0 else np.asarray(v)) for k, v in columns.items()})

    def frame(self, columns) -> pd.DataFrame:
        data = {}
        for c in columns:
            chunks = [p[c] if c in p else np.full(len(next(iter(p.values()))), None, dtype=object) for p in self.parts]
            data[c] = np.concatenate(chunks) if chunks else np.array([], dtype=object)
        return pd.DataFrame(data)


def flash_days(start: np.datetime64, days: int) -> np.ndarray:
    """Offsets (days from ``start``) of the flash-sale days in the period: 9.9 ... 12.12 and Ramadan's first
    days."""
    first = pd.Timestamp(start)
    out = []
    for d in range(days):
        day = first + pd.Timedelta(days=d)
        ramadan = RAMADAN_START.get(day.year)
        if (day.month, day.day) in FLASH_DAYS or (ramadan and 0 <= (day - pd.Timestamp(ramadan)).days < 3):
            out.append(d)
    return np.array(out, dtype=int)


def written_address(street: np.ndarray, number: np.ndarray, city: np.ndarray, rt: np.ndarray, form: np.ndarray
                    ) -> list[str]:
    """An address in one of the forms people type it: "Jl. Mawar No. 5, Bandung", "jalan mawar no5 bandung",
    "JL MAWAR NO.5 RT 02/RW 03, BANDUNG", "Jln. Mawar 5, Bandung" ..."""
    out = []
    for s, n, c, r, f in zip(street.tolist(), number.tolist(), city.tolist(), rt.tolist(), form.tolist()):
        name, town = STREETS[s], CITIES[c]
        if f == 0:
            out.append(f"Jl. {name} No. {n}, {town}")
        elif f == 1:
            out.append(f"jalan {name.lower()} no{n} {town.lower()}")
        elif f == 2:
            out.append(f"JL {name.upper()} NO.{n} RT 0{r}/RW 0{r + 1}, {town.upper()}")
        elif f == 3:
            out.append(f"Jln. {name} {n}, {town}")
        else:
            out.append(f"Jalan {name} Nomor {n} Kota {town}")
    return out


def simulate(accounts: int = 3000, days: int = 60, seed: int = 0, start: str = DEFAULT_START) -> dict[str, pd.DataFrame]:
    """The eight marketplace tables plus ``labels`` (see the module docstring). ``accounts``: total buyer
    accounts at the end of the period (honest and abusive); ``days``: length of the event period."""
    if accounts < 200:
        raise ValueError("accounts: at least 200 (smaller marketplaces cannot hold every typology)")
    if days < 21:
        raise ValueError("days: at least 21 (new sellers need two weeks to show what they are)")
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(pd.Timestamp(start).floor("D").to_datetime64(), "s").astype(np.int64)
    horizon = days * DAY
    t_end = t0 + horizon
    n_sellers = max(30, accounts // 20)
    flash = flash_days(np.datetime64(start), days)

    # -- ids --------------------------------------------------------------------------------------------
    device_counter = [0]
    ip_counter = [0]

    def devices(n):
        device_counter[0] += n
        ids = np.arange(device_counter[0] - n, device_counter[0]) * 7919 + 104729
        return np.array([f"dev-{v:09x}" for v in ids], dtype=object)

    def ips(n, prefix=None):
        ip_counter[0] += n
        base = np.arange(ip_counter[0] - n, ip_counter[0])
        if prefix is not None:  # one /24 range
            return np.array([f"{prefix}.{10 + (v % 240)}" for v in base], dtype=object)
        return np.array([f"{36 + v % 80}.{(v // 80) % 250}.{(v // 20000) % 250}.{1 + v % 253}" for v in base],
                        dtype=object)

    # -- honest accounts ----------------------------------------------------------------------------------
    n_ato = max(6, int(accounts * 0.004))
    n_promo_target = max(12, int(accounts * 0.008))
    n_refund = max(5, int(accounts * 0.004))
    n_brush_sellers = max(2, int(n_sellers * 0.01))
    n_fake_sellers = max(2, int(n_sellers * 0.01))
    promo_sizes = []
    while sum(promo_sizes) < n_promo_target:
        promo_sizes.append(int(rng.integers(4, 16)))
    brush_sizes = rng.integers(3, 9, n_brush_sellers)
    n_abusive_new = sum(promo_sizes) + int(brush_sizes.sum())
    n_honest = accounts - n_abusive_new
    A = accounts
    city = rng.choice(len(CITIES), A, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    created = np.where(rng.random(A) < 0.85, t0 - rng.integers(DAY, 3 * 365 * DAY, A),
                       t0 + rng.integers(0, horizon, A))
    street = rng.integers(0, len(STREETS), A)
    number = rng.integers(1, 500, A)
    rt = rng.integers(1, 9, A)
    home = np.arange(A)  # index of the address an account ships to (households share one)
    primary_device = devices(A)
    home_ip = ips(A)
    pay_token = np.array([f"pay-{v:08x}" for v in rng.permutation(10 * A)[:A] + 17], dtype=object)
    payment_method = rng.choice(len(WALLETS), A, p=WALLET_WEIGHTS / WALLET_WEIGHTS.sum())
    tablet = np.full(A, None, dtype=object)
    honest = np.arange(n_honest)
    # households (2-4 members) and kos (6-12 tenants): one address, one home Wi-Fi; households may share a
    # tablet and a parent's wallet
    order_ = rng.permutation(honest)
    pos = 0
    group_id = np.full(A, -1)
    g = 0
    while pos < 0.15 * n_honest:
        kos = rng.random() < 0.2
        size = int(rng.integers(6, 13) if kos else rng.integers(2, 5))
        members = order_[pos:pos + size]
        pos += size
        lead = members[0]
        home[members] = lead
        city[members] = city[lead]
        home_ip[members] = home_ip[lead]
        group_id[members] = g
        g += 1
        if not kos and rng.random() < 0.5:
            tablet[members] = devices(1)[0]
        if not kos and rng.random() < 0.3:
            pay_token[members] = pay_token[lead]
            payment_method[members] = payment_method[lead]
        if kos:  # tenants of a kos sign up over months: the same address, never a burst
            created[members] = np.where(rng.random(len(members)) < 0.6, t0 - rng.integers(DAY, 400 * DAY, len(members)),
                                        t0 + rng.integers(0, horizon, len(members)))
    nat_ip = ips(len(CITIES) * 3)  # carrier-grade NAT: three mobile IPs per city carry most mobile traffic
    phone = np.array([f"+62 8{v:010d}" for v in 1_100_000_000 + rng.permutation(A) * 7919 + int(rng.integers(0, 10**6))],
                     dtype=object)

    # abusive new accounts: promo rings and brushing buyers take the last ids
    promo_ring = np.full(A, -1)
    brush_of = np.full(A, -1)
    idx = n_honest
    care = {}
    for r, size in enumerate(promo_sizes):
        members = np.arange(idx, idx + size)
        idx += size
        promo_ring[members] = r
        level = rng.choice(3, p=[0.35, 0.35, 0.3])  # 0 careless, 1 medium, 2 careful
        care[r] = level
        burst = rng.integers(0, horizon - 5 * DAY)
        spread = DAY // 6 if level == 0 else (2 * DAY if level == 1 else 7 * DAY)
        created[members] = t0 + burst + np.sort(rng.integers(0, spread, size))
        lead = members[0]
        city[members] = city[lead]
        street[members], number[members], rt[members] = street[lead], number[lead], rt[lead]
        home[members] = lead
        prefix = f"{100 + r % 100}.{r // 100 % 250}.{rng.integers(1, 250)}"
        if level == 0:
            primary_device[members] = devices(1)[0]
            home_ip[members] = ips(1)[0]
            pay_token[members] = pay_token[lead]
        elif level == 1:
            primary_device[members] = devices(2)[rng.integers(0, 2, size)]
            home_ip[members] = ips(size, prefix)
            pay_token[members] = pay_token[lead]
        else:
            home_ip[members] = ips(size, prefix)
    for s, size in enumerate(brush_sizes):
        members = np.arange(idx, idx + size)
        idx += size
        brush_of[members] = s
        created[members] = t0 - rng.integers(5 * DAY, 120 * DAY) + rng.integers(0, 3 * DAY, size)
        if rng.random() < 0.5:
            primary_device[members] = devices(1)[0]
        home_ip[members] = home_ip[members[0]]
        home[members] = members[0]
    created = np.minimum(created, t_end - 3600)

    # -- sellers --------------------------------------------------------------------------------------------
    S = n_sellers
    seller_created = np.where(rng.random(S) < 0.9, t0 - rng.integers(30 * DAY, 4 * 365 * DAY, S),
                              t0 + rng.integers(0, horizon - 10 * DAY, S))
    seller_city = rng.choice(len(CITIES), S, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    seller_category = rng.choice(len(CATEGORIES), S, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum())
    popularity = rng.pareto(1.2, S) + 0.2
    price_factor = rng.lognormal(0, 0.15, S)
    quality_problem = rng.random(S) < 0.03
    perm = rng.permutation(S)
    brush_seller = perm[:n_brush_sellers]
    fake_seller = perm[n_brush_sellers:n_brush_sellers + n_fake_sellers]
    launch = perm[n_brush_sellers + n_fake_sellers:n_brush_sellers + n_fake_sellers + max(2, S // 40)]
    seller_created[fake_seller] = t0 + rng.integers(0, horizon - 14 * DAY, n_fake_sellers)
    seller_created[launch] = t0 + rng.integers(0, horizon - 14 * DAY, len(launch))
    seller_category[fake_seller] = np.where(rng.random(n_fake_sellers) < 0.7, CATEGORIES.index("electronics"),
                                            CATEGORIES.index("voucher"))
    popularity[brush_seller] = np.minimum(popularity[brush_seller], 0.5)
    quality_problem[fake_seller] = False
    price_factor[launch] = 0.75
    price_factor[fake_seller] = rng.uniform(0.35, 0.75, n_fake_sellers)
    flood_city = int(rng.integers(0, len(CITIES)))
    flood_start = t0 + int(rng.integers(0, max(1, days - 7))) * DAY

    logins, changes, sessions, orders = Builder(), Builder(), Builder(), Builder()
    labels = Builder()

    def active_window(accts):
        return np.maximum(created[accts], t0)

    # -- honest logins and sessions ----------------------------------------------------------------------
    rate = rng.gamma(1.2, 0.25, A)  # logins per day
    active_from = active_window(np.arange(A))
    expected = rate * (t_end - active_from) / DAY
    n_log = rng.poisson(expected)
    who = np.repeat(np.arange(A), n_log)
    when = active_from[who] + (rng.random(len(who)) * (t_end - active_from[who])).astype(np.int64)
    mobile = rng.random(len(who)) < 0.45
    ip = np.where(mobile, nat_ip[city[who] * 3 + rng.integers(0, 3, len(who))], home_ip[who])
    dev = np.where((tablet[who] != None) & (rng.random(len(who)) < 0.3), tablet[who], primary_device[who])  # noqa: E711
    # travellers: a week of logins from hotel and airport IPs
    traveller = rng.random(A) < 0.05
    away = traveller[who] & (rng.random(len(who)) < 0.3)
    ip = np.where(away, ips(len(who))[:len(who)], ip)
    # honest phone changes: a new device from some day on, passed with an OTP, and the new phone number
    new_phone = (rng.random(A) < 0.04) & (np.arange(A) < n_honest)
    switch_at = t0 + rng.integers(DAY, horizon - DAY, A)
    new_dev = devices(A)
    switched = new_phone[who] & (when >= switch_at[who])
    dev = np.where(switched, new_dev[who], dev)
    first_after = np.zeros(len(who), bool)
    if switched.any():
        sw_idx = np.flatnonzero(switched)
        order_sw = sw_idx[np.lexsort((when[sw_idx], who[sw_idx]))]
        first = np.r_[True, who[order_sw][1:] != who[order_sw][:-1]]
        first_after[order_sw[first]] = True
    typo = rng.random(len(who)) < 0.04
    logins.add(account_id=who[typo], time=when[typo] - 30, success=False, ip=ip[typo], device_id=dev[typo], otp=False)
    logins.add(account_id=who, time=when, success=True, ip=ip, device_id=dev, otp=first_after | (rng.random(len(who)) < 0.02))
    ch = np.flatnonzero(first_after)
    changes.add(account_id=who[ch], time=when[ch] + rng.integers(600, 3 * DAY, len(ch)), field="phone",
                device_id=dev[ch], ip=ip[ch])
    moved = rng.random(A) < 0.01  # honest moves: a new address, orders go there
    mv = np.flatnonzero(moved & (np.arange(A) < n_honest))
    move_at = t0 + rng.integers(0, horizon, len(mv))
    changes.add(account_id=mv, time=move_at, field="address", device_id=primary_device[mv], ip=home_ip[mv])
    pw = np.flatnonzero(rng.random(A) < 0.02)
    changes.add(account_id=pw, time=t0 + rng.integers(0, horizon, len(pw)), field="password",
                device_id=primary_device[pw], ip=home_ip[pw])
    ev = rng.poisson(25, len(who)) + 1
    sessions.add(account_id=who, start=when + 5, events=ev,
                 seconds=np.maximum(5, (ev * rng.lognormal(1.6, 0.4, len(who)))).astype(int), device_id=dev, ip=ip)

    # -- honest orders ----------------------------------------------------------------------------------
    order_rate = rng.gamma(0.8, 0.09, A)
    order_rate[n_honest:] = 0.0  # abusive new accounts order by their own script below
    bulk = (rng.random(A) < 0.01) & (np.arange(A) < n_honest)
    order_rate[bulk] *= 3
    n_ord = rng.poisson(order_rate * (t_end - active_from) / DAY)
    buyer = np.repeat(np.arange(A), n_ord)
    t = active_from[buyer] + (rng.random(len(buyer)) * (t_end - active_from[buyer])).astype(np.int64)
    # flash sales: extra orders on the sale days, most in the first hours after midnight
    if len(flash):
        n_flash = int(len(buyer) * 0.05 * len(flash))
        fb = rng.integers(0, n_honest, n_flash)
        fb = fb[created[fb] < t_end - 2 * DAY]
        day = flash[rng.integers(0, len(flash), len(fb))]
        ft = t0 + day * DAY + np.where(rng.random(len(fb)) < 0.6, rng.integers(0, 2 * 3600, len(fb)),
                                       rng.integers(0, DAY, len(fb)))
        keep = ft >= created[fb]
        buyer, t = np.r_[buyer, fb[keep]], np.r_[t, ft[keep]]
    n = len(buyer)
    seller_weight = popularity.copy()
    seller = rng.choice(S, n, p=seller_weight / seller_weight.sum())
    # new sellers (fake or with a launch discount) attract orders once they open, many in their first weeks
    for group, boost in ((launch, 25.0), (fake_seller, 30.0)):
        for s_ in group:
            m = int(rng.poisson(boost * n / S / max(days, 1) * 14 / 10))
            bt = seller_created[s_] + rng.integers(0, 14 * DAY, m)
            bb = rng.integers(0, n_honest, m)
            ok = (bt < t_end) & (bt > created[bb])
            buyer, t = np.r_[buyer, bb[ok]], np.r_[t, bt[ok]]
            seller = np.r_[seller, np.full(ok.sum(), s_)]
    # orders before a seller opened go to a popular seller instead
    early = t < seller_created[seller]
    seller[early] = np.argmax(popularity)
    # bulk resellers: some of their orders come as 3-6 orders to one seller within an hour
    bulk_buyers = np.flatnonzero(bulk)
    bursts = []
    for b in bulk_buyers:
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(3, 7))
            bt0 = active_from[b] + rng.integers(0, max(1, t_end - active_from[b] - 3600))
            bursts.append((np.full(k, b), bt0 + np.sort(rng.integers(0, 3000, k)), np.full(k, rng.integers(0, S))))
    if bursts:
        buyer = np.r_[buyer, np.concatenate([x[0] for x in bursts])]
        t = np.r_[t, np.concatenate([x[1] for x in bursts])]
        seller = np.r_[seller, np.concatenate([x[2] for x in bursts])]
    n = len(buyer)
    cat = seller_category[seller]
    amount = (CATEGORY_PRICE[cat] * price_factor[seller] * rng.lognormal(0, 0.5, n)).astype(np.int64) // 100 * 100 + 100
    # a new account's first order uses the new-user voucher (most of the time)
    order_idx = np.lexsort((t, buyer))
    first_order = np.zeros(n, bool)
    first_order[order_idx[np.r_[True, buyer[order_idx][1:] != buyer[order_idx][:-1]]]] = True
    new_user = created[buyer] >= t0
    voucher = first_order & new_user & (rng.random(n) < 0.7)
    promo = np.where(voucher, "NEWUSER", np.where(rng.random(n) < 0.15, rng.choice(["FLASH", "GRATISONGKIR", "CASHBACK10"], n), None))
    voucher_amount = np.where(voucher, rng.choice([20_000, 30_000, 50_000], n), np.where(promo != None, 10_000, 0))  # noqa: E711
    addr_form = rng.integers(0, 5, A)  # each account types its address its own way
    # honest address after a move
    moved_after = np.zeros(n, bool)
    if len(mv):
        mv_time = np.full(A, np.iinfo(np.int64).max)
        mv_time[mv] = move_at
        moved_after = t > mv_time[buyer]
    dev_o = np.where(new_phone[buyer] & (t >= switch_at[buyer]), new_dev[buyer], primary_device[buyer])
    ip_o = np.where(rng.random(n) < 0.45, nat_ip[city[buyer] * 3 + rng.integers(0, 3, n)], home_ip[buyer])
    orders.add(account_id=buyer, seller_id=seller, time=t, amount=amount, payment_method=payment_method[buyer],
               payment_account=pay_token[buyer], promo_code=promo, voucher_amount=voucher_amount,
               addr=home[buyer], addr_form=addr_form[buyer], moved=moved_after, device_id=dev_o, ip=ip_o,
               category=cat, kind="honest")

    # -- promo-abuse rings: each new account redeems the new-user voucher once -----------------------------
    pa = np.flatnonzero(promo_ring >= 0)
    pt = created[pa] + rng.integers(600, 2 * DAY, len(pa))
    ps = rng.choice(S, len(pa), p=popularity / popularity.sum())
    ps = np.where(pt < seller_created[ps], np.argmax(popularity), ps)
    pcat = seller_category[ps]
    careful = np.array([care[r] for r in promo_ring[pa]])
    orders.add(account_id=pa, seller_id=ps, time=pt, amount=(CATEGORY_PRICE[pcat] * rng.uniform(0.4, 1.2, len(pa))).astype(np.int64) // 100 * 100,
               payment_method=payment_method[pa], payment_account=pay_token[pa], promo_code="NEWUSER",
               voucher_amount=rng.choice([30_000, 50_000], len(pa)), addr=home[pa],
               addr_form=np.where(careful == 2, rng.integers(0, 5, len(pa)), addr_form[pa]), moved=False,
               device_id=primary_device[pa], ip=home_ip[pa], category=pcat, kind="promo")
    pl = rng.poisson(2, len(pa)) + 1
    lw = np.repeat(pa, pl)
    lt = np.minimum(created[lw] + rng.integers(60, 5 * DAY, len(lw)), t_end - 1)
    logins.add(account_id=lw, time=lt, success=True, ip=home_ip[lw], device_id=primary_device[lw], otp=False)
    sessions.add(account_id=lw, start=lt + 5, events=rng.poisson(12, len(lw)) + 1,
                 seconds=rng.integers(20, 200, len(lw)), device_id=primary_device[lw], ip=home_ip[lw])
    for r, size in enumerate(promo_sizes):
        members = np.flatnonzero(promo_ring == r)
        labels.add(entity_type="account", entity_id=members, typology="promo_abuse", ring_id=f"promo-{r}",
                   time=created[members] + DAY)

    # -- refund abusers (alone or a ring of 2-4 sharing an address and a wallet) ------------------------------
    pool = rng.permutation(np.flatnonzero((np.arange(A) < n_honest) & (created < t0) & ~new_phone & (group_id < 0)))
    ref_abusers = pool[:n_refund]
    ato_victims = pool[n_refund:n_refund + n_ato]
    ring_of = np.full(A, -1)
    i = 0
    rr = 0
    while i < len(ref_abusers):
        size = int(rng.choice([1, 1, 2, 3, 4]))
        members = ref_abusers[i:i + size]
        i += size
        if size > 1:
            home[members] = members[0]
            pay_token[members] = pay_token[members[0]]
            ring_of[members] = rr
            rr += 1
    k = rng.poisson(0.35 * days, len(ref_abusers)) + 3
    rb = np.repeat(ref_abusers, k)
    rt_ = t0 + rng.integers(0, horizon - 3 * DAY, len(rb))
    rs = rng.choice(S, len(rb), p=popularity / popularity.sum())
    rs = np.where(rt_ < seller_created[rs], np.argmax(popularity), rs)
    rcat = seller_category[rs]
    orders.add(account_id=rb, seller_id=rs, time=rt_, amount=(CATEGORY_PRICE[rcat] * rng.lognormal(0.3, 0.4, len(rb))).astype(np.int64) // 100 * 100,
               payment_method=payment_method[rb], payment_account=pay_token[rb], promo_code=None, voucher_amount=0,
               addr=home[rb], addr_form=addr_form[rb], moved=False, device_id=primary_device[rb], ip=home_ip[rb],
               category=rcat, kind="refund_abuse")
    for a in ref_abusers:
        labels.add(entity_type="account", entity_id=[a], typology="refund_abuse",
                   ring_id=[f"refund-{ring_of[a]}" if ring_of[a] >= 0 else None], time=[t_end])

    # -- account takeover: credential stuffing, a new device and IP, changes, resellable orders ---------------
    campaigns = np.array_split(rng.permutation(ato_victims), max(1, len(ato_victims) // 8))
    for c, victims in enumerate(campaigns):
        attacker_ips = ips(int(rng.integers(2, 5)))
        fresh = rng.random() < 0.5  # careful attackers use a fresh device per victim
        attacker_dev = devices(len(victims)) if fresh else np.repeat(devices(1), len(victims))
        start_at = t0 + rng.integers(0, horizon - 4 * DAY)
        # stuffing: failed logins over many accounts (the victims among them) from the attacker's few IPs;
        # a phishing campaign has the passwords already and fails no login
        if rng.random() < 0.65:
            tried = np.r_[victims, rng.choice(n_honest, 12 * len(victims))]
            tries = rng.integers(1, 4, len(tried))
            tw = np.repeat(tried, tries)
            logins.add(account_id=tw, time=start_at + rng.integers(0, 3 * 3600, len(tw)), success=False,
                       ip=attacker_ips[rng.integers(0, len(attacker_ips), len(tw))],
                       device_id=devices(1)[0], user_agent="python-requests/2.31", otp=False)
        spaced = rng.random() < 0.4
        t_login = start_at + 3 * 3600 + (rng.integers(0, 3 * DAY, len(victims)) if spaced
                                          else rng.integers(0, 4 * 3600, len(victims)))
        v_ip = attacker_ips[rng.integers(0, len(attacker_ips), len(victims))]
        # a SIM swap passes the OTP; a careful attacker clicks at human speed
        logins.add(account_id=victims, time=t_login, success=True, ip=v_ip, device_id=attacker_dev,
                   otp=rng.random(len(victims)) < 0.25)
        ev_ = rng.integers(20, 80, len(victims))
        sessions.add(account_id=victims, start=t_login + 3, events=ev_,
                     seconds=(ev_ * (rng.lognormal(1.6, 0.4, len(victims)) if fresh else rng.uniform(0.3, 0.8, len(victims)))
                              ).astype(int) + 1, device_id=attacker_dev, ip=v_ip)
        t_change = t_login
        for field, p in (("password", 0.4), ("phone", 0.5), ("email", 0.4), ("address", 0.7)):
            hit = rng.random(len(victims)) < p
            tc = t_login + rng.integers(300, 6 * 3600, len(victims))
            changes.add(account_id=victims[hit], time=tc[hit], field=field, device_id=attacker_dev[hit], ip=v_ip[hit])
            t_change = np.maximum(t_change, np.where(hit, tc, t_change))
        m = rng.integers(1, 4, len(victims))
        ov = np.repeat(np.arange(len(victims)), m)
        vt = t_change[ov] + rng.integers(600, 12 * 3600, len(ov))
        vcat = rng.choice([CATEGORIES.index(c_) for c_ in ("electronics", "voucher", "pulsa", "fashion", "beauty")], len(ov),
                          p=[0.3, 0.25, 0.2, 0.15, 0.1])
        vs = rng.choice(S, len(ov), p=popularity / popularity.sum())
        # the campaign's drop address, outside every account's home; a careful campaign has one per victim
        drop = n_honest + 10_000 + (c * 100 + ov if fresh else c)
        orders.add(account_id=victims[ov], seller_id=vs, time=np.minimum(vt, t_end - 1),
                   amount=rng.integers(15, 80, len(ov)) * 100_000, payment_method=payment_method[victims[ov]],
                   payment_account=np.where(rng.random(len(ov)) < 0.7, pay_token[victims[ov]], f"pay-x{c:05d}"),
                   promo_code=None, voucher_amount=0, addr=drop, addr_form=rng.integers(0, 5, len(ov)), moved=False,
                   device_id=attacker_dev[ov], ip=v_ip[ov], category=vcat, kind="ato")
        labels.add(entity_type="account", entity_id=victims, typology="account_takeover", ring_id=f"ato-{c}",
                   time=t_login + DAY)

    # -- brushing: a seller's own buyer accounts order 3+ times within an hour and rate 5 stars ------------------
    for s, s_ in enumerate(brush_seller):
        buyers_ = np.flatnonzero(brush_of == s)
        spaced = rng.random() < 0.4
        n_bursts = int(rng.integers(4, 10) * days / 60) + 2
        for _ in range(n_bursts):
            at = t0 + rng.integers(0, horizon - 3600)
            who_ = buyers_[rng.random(len(buyers_)) < 0.8]
            if not len(who_):
                who_ = buyers_[:1]
            # a careful brusher stays under the 3-per-hour rule: 2 orders per buyer per hour
            k_ = np.full(len(who_), 2) if spaced else rng.integers(3, 7, len(who_))
            bw = np.repeat(who_, k_)
            bt = at + (np.sort(rng.integers(0, 3300 if not spaced else 3500, len(bw))))
            orders.add(account_id=bw, seller_id=s_, time=bt,
                       amount=(CATEGORY_PRICE[seller_category[s_]] * rng.uniform(0.3, 0.8, len(bw))).astype(np.int64) // 100 * 100,
                       payment_method=payment_method[bw], payment_account=pay_token[bw], promo_code=None,
                       voucher_amount=0, addr=home[bw], addr_form=addr_form[bw], moved=False,
                       device_id=primary_device[bw], ip=home_ip[bw], category=seller_category[s_], kind="brushing")
            logins.add(account_id=who_, time=at - 60, success=True, ip=home_ip[who_], device_id=primary_device[who_], otp=False)
            sessions.add(account_id=who_, start=at - 30, events=rng.integers(5, 15, len(who_)),
                         seconds=rng.integers(30, 120, len(who_)), device_id=primary_device[who_], ip=home_ip[who_])
        labels.add(entity_type="seller", entity_id=[s_], typology="brushing", ring_id=[f"brush-{s}"], time=[t_end])
        labels.add(entity_type="account", entity_id=buyers_, typology="brushing", ring_id=f"brush-{s}", time=t_end)
    for s_ in fake_seller:
        labels.add(entity_type="seller", entity_id=[s_], typology="fake_seller", ring_id=[None], time=[t_end])

    # -- assemble orders, then what happens to them -------------------------------------------------------------
    o = orders.frame(["account_id", "seller_id", "time", "amount", "payment_method", "payment_account", "promo_code",
                      "voucher_amount", "addr", "addr_form", "moved", "device_id", "ip", "category", "kind"])
    o = o[(o["time"].astype(np.int64) < t_end) & (o["time"].astype(np.int64) >= t0)].sort_values("time", kind="stable")
    o = o.reset_index(drop=True)
    n = len(o)
    acc = o["account_id"].to_numpy(int)
    sel = o["seller_id"].to_numpy(int)
    ot = o["time"].to_numpy(np.int64)
    kind = o["kind"].to_numpy(object)
    addr = o["addr"].to_numpy(int)
    form = o["addr_form"].to_numpy(int)
    # an honest move: a new street and number in the same city
    moved_o = o["moved"].to_numpy(bool)
    a_street = np.where(addr < A, street[np.minimum(addr, A - 1)], (addr * 7) % len(STREETS))
    a_number = np.where(addr < A, number[np.minimum(addr, A - 1)], 1 + (addr * 13) % 499)
    a_city = np.where(addr < A, city[np.minimum(addr, A - 1)], (addr * 3) % len(CITIES))
    a_rt = np.where(addr < A, rt[np.minimum(addr, A - 1)], 1 + addr % 8)
    a_street = np.where(moved_o, (a_street + 5) % len(STREETS), a_street)
    a_number = np.where(moved_o, (a_number + 37) % 499 + 1, a_number)
    shipping = written_address(a_street, a_number, a_city, a_rt, form)
    status = np.full(n, "completed", dtype=object)
    u = rng.random(n)
    status[u < 0.03] = "cancelled"
    status[(u >= 0.03) & (u < 0.045)] = "unpaid"
    ship_days = rng.gamma(2.0, 1.2, n) + 0.5
    flooded = (seller_city[sel] == flood_city) & (ot >= flood_start) & (ot < flood_start + 7 * DAY)
    ship_days = np.where(flooded, ship_days + rng.uniform(5, 12, n), ship_days)
    delivered = ot + (ship_days * DAY).astype(np.int64)
    is_fake = np.isin(sel, fake_seller)
    delivered_ok = (status == "completed") & ~is_fake
    # refund claims
    claim = np.zeros(n, bool)
    reason = np.full(n, None, dtype=object)
    evidence = np.zeros(n, bool)
    claim_at = np.zeros(n, np.int64)
    base = delivered_ok & (kind == "honest")
    p_claim = np.where(quality_problem[sel], 0.22, 0.02)
    unlucky = (rng.random(A) < 0.02)[acc]
    p_claim = np.where(unlucky, 0.25, p_claim)
    p_claim = np.where(flooded, 0.12, p_claim)
    c1 = base & (rng.random(n) < p_claim)
    r_q = rng.choice(["damaged", "not_as_described", "wrong_item"], n)
    r_h = rng.choice(list(REFUND_REASONS), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    reason[c1] = np.where(quality_problem[sel[c1]], r_q[c1], np.where(flooded[c1] | unlucky[c1], "not_received", r_h[c1]))
    evidence[c1] = rng.random(c1.sum()) < np.where(reason[c1] == "not_received", 0.2, 0.75)
    claim_at[c1] = delivered[c1] + rng.integers(DAY // 2, 7 * DAY, c1.sum())
    claim |= c1
    # abusers of varying care: claim 30-70 % of their orders, some with (fake) photos, some days later
    claim_rate = rng.uniform(0.3, 0.7, A)[acc]
    fake_photo = rng.uniform(0.0, 0.4, A)[acc]
    patience = rng.choice([DAY, 3 * DAY], A)[acc]
    c2 = delivered_ok & (kind == "refund_abuse") & (rng.random(n) < claim_rate)
    reason[c2] = rng.choice(["not_received", "damaged", "not_as_described"], c2.sum(), p=[0.55, 0.3, 0.15])
    evidence[c2] = rng.random(c2.sum()) < fake_photo[c2]
    claim_at[c2] = delivered[c2] + (rng.random(c2.sum()) * patience[c2]).astype(np.int64) + 600
    claim |= c2
    ships_some = rng.random(S) < 0.3  # a careful fake seller ships a third of its orders to look real
    is_fake = is_fake & ~(ships_some[sel] & (rng.random(n) < 0.33))
    delivered_ok = (status == "completed") & ~is_fake
    c3 = is_fake & (rng.random(n) < 0.85)
    status[is_fake & ~c3] = np.where(rng.random((is_fake & ~c3).sum()) < 0.5, "cancelled", "unpaid")
    reason[c3] = "not_received"
    evidence[c3] = False
    claim_at[c3] = ot[c3] + rng.integers(5 * DAY, 15 * DAY, c3.sum())
    claim |= c3
    status[claim] = "refunded"
    delivered_at = np.where(delivered_ok & (delivered < t_end), delivered, -1)
    # flooded and fake-seller not-received claims: the parcel never came (or came after the claim)
    delivered_at[claim & (reason == "not_received") & (is_fake | flooded)] = -1
    order_ids = np.array([f"ORD{v:09d}" for v in 1_000_003 + np.arange(n) * 7], dtype=object)

    def ts(x):
        x = np.asarray(x, dtype=np.int64)
        out = pd.Series(pd.to_datetime(x, unit="s"))
        return out.where(x >= 0)

    # -- ids that tell nothing about who is who -----------------------------------------------------------------
    acc_ids = np.array([f"acc{v:07d}" for v in rng.permutation(A) * 13 + 100_001], dtype=object)
    seller_ids = np.array([f"shop{v:06d}" for v in rng.permutation(S) * 11 + 5003], dtype=object)

    orders_frame = pd.DataFrame({
        "order_id": order_ids, "account_id": acc_ids[acc], "seller_id": seller_ids[sel], "time": ts(ot),
        "amount": o["amount"].to_numpy(np.int64), "payment_method": np.array(WALLETS, dtype=object)[o["payment_method"].to_numpy(int)],
        "payment_account": o["payment_account"].to_numpy(object), "promo_code": o["promo_code"].to_numpy(object),
        "voucher_amount": o["voucher_amount"].to_numpy(np.int64), "shipping_address": shipping,
        "device_id": o["device_id"].to_numpy(object), "ip": o["ip"].to_numpy(object),
        "category": np.array(CATEGORIES, dtype=object)[o["category"].to_numpy(int)], "status": status,
        "delivered_at": ts(delivered_at)})
    cl = np.flatnonzero(claim & (claim_at < t_end))
    refund_amount = np.where(rng.random(len(cl)) < 0.9, orders_frame["amount"].to_numpy()[cl],
                             orders_frame["amount"].to_numpy()[cl] // 2)
    refunds = pd.DataFrame({"refund_id": [f"RF{v:08d}" for v in 500_001 + np.arange(len(cl)) * 3],
                            "order_id": order_ids[cl], "time": ts(claim_at[cl]), "amount": refund_amount,
                            "reason": reason[cl], "evidence": evidence[cl]}).sort_values("time", kind="stable")
    # reviews: honest buyers review some completed orders; brushing buyers rate nearly every order 5 stars
    done = (status == "completed") & (delivered_at >= 0)
    brushing_o = kind == "brushing"
    writes = done & (rng.random(n) < np.where(brushing_o, 0.9, 0.35))
    rating = rng.choice(np.arange(1, 6), n, p=[0.04, 0.04, 0.1, 0.3, 0.52])
    rating = np.where(quality_problem[sel], np.maximum(1, rating - 2), rating)
    rating = np.where(brushing_o, np.where(rng.random(n) < 0.92, 5, 4), rating)
    text = np.where(brushing_o & (rng.random(n) < 0.6), rng.choice(GENERIC_REVIEWS, n), rng.choice(HONEST_REVIEWS, n))
    text = np.where(~brushing_o & (rng.random(n) < 0.2), rng.choice(GENERIC_REVIEWS, n), text)
    review_at = np.where(brushing_o, ot + rng.integers(DAY, 3 * DAY, n), delivered_at + rng.integers(3600, 10 * DAY, n))
    wr = np.flatnonzero(writes & (review_at < t_end))
    reviews = pd.DataFrame({"review_id": [f"RV{v:08d}" for v in 700_001 + np.arange(len(wr)) * 3],
                            "order_id": order_ids[wr], "time": ts(review_at[wr]), "rating": rating[wr],
                            "text": text[wr]}).sort_values("time", kind="stable")

    emails = np.array([f"user{v}@{d}" for v, d in zip(rng.permutation(A) + 3000,
                                                     rng.choice(["gmail.com", "yahoo.co.id", "outlook.com"], A))])
    accounts_frame = pd.DataFrame({
        "account_id": acc_ids, "created_at": ts(created), "email": emails, "phone": phone,
        "name": [f"Pengguna {v}" for v in range(A)], "city": np.array(CITIES, dtype=object)[city],
        "signup_device_id": primary_device, "signup_ip": home_ip,
        "referred_by": np.full(A, None, dtype=object)})
    # promo rings refer each other to collect the referral bonus too
    for r in range(len(promo_sizes)):
        members = np.flatnonzero(promo_ring == r)
        refer = members[1:][rng.random(len(members) - 1) < 0.5]
        accounts_frame.loc[refer, "referred_by"] = acc_ids[members[0]]
    honest_ref = rng.choice(n_honest, A // 50)
    accounts_frame.loc[honest_ref, "referred_by"] = acc_ids[rng.choice(n_honest, len(honest_ref))]
    accounts_frame.loc[accounts_frame["referred_by"] == accounts_frame["account_id"], "referred_by"] = None
    owner = rng.choice(n_honest, S)
    sellers_frame = pd.DataFrame({
        "seller_id": seller_ids, "created_at": ts(seller_created), "city": np.array(CITIES, dtype=object)[seller_city],
        "category": np.array(CATEGORIES, dtype=object)[seller_category], "account_id": acc_ids[owner]})
    sellers_frame.loc[rng.random(S) < 0.3, "account_id"] = None
    for s, s_ in enumerate(brush_seller):  # a brushing shop's owner is one of its fake buyers
        sellers_frame.loc[s_, "account_id"] = acc_ids[np.flatnonzero(brush_of == s)[0]]

    lg = logins.frame(["account_id", "time", "success", "ip", "device_id", "user_agent", "otp"])
    lg = lg[(lg["time"].astype(np.int64) >= t0) & (lg["time"].astype(np.int64) < t_end)]
    ua = np.array(["Shopee/3.2 (Android 13)", "Shopee/3.2 (iOS 17)", "Mozilla/5.0 (Windows NT 10.0)"], dtype=object)
    lg["user_agent"] = np.where(lg["user_agent"].isna(), ua[rng.integers(0, 3, len(lg))], lg["user_agent"])
    lg = pd.DataFrame({"account_id": acc_ids[lg["account_id"].to_numpy(int)], "time": ts(lg["time"].to_numpy(np.int64)),
                       "success": lg["success"].to_numpy(bool), "ip": lg["ip"].to_numpy(object),
                       "device_id": lg["device_id"].to_numpy(object), "user_agent": lg["user_agent"].to_numpy(object),
                       "otp": lg["otp"].to_numpy(bool)}).sort_values("time", kind="stable")
    chg = changes.frame(["account_id", "time", "field", "device_id", "ip"])
    chg = chg[(chg["time"].astype(np.int64) >= t0) & (chg["time"].astype(np.int64) < t_end)]
    chg = pd.DataFrame({"account_id": acc_ids[chg["account_id"].to_numpy(int)], "time": ts(chg["time"].to_numpy(np.int64)),
                        "field": chg["field"].to_numpy(object), "device_id": chg["device_id"].to_numpy(object),
                        "ip": chg["ip"].to_numpy(object)}).sort_values("time", kind="stable")
    ss = sessions.frame(["account_id", "start", "events", "seconds", "device_id", "ip"])
    ss = ss[(ss["start"].astype(np.int64) >= t0) & (ss["start"].astype(np.int64) < t_end)]
    ss = pd.DataFrame({"account_id": acc_ids[ss["account_id"].to_numpy(int)], "start": ts(ss["start"].to_numpy(np.int64)),
                       "events": ss["events"].to_numpy(np.int64), "seconds": ss["seconds"].to_numpy(np.int64),
                       "device_id": ss["device_id"].to_numpy(object), "ip": ss["ip"].to_numpy(object)}
                      ).sort_values("start", kind="stable")
    lb = labels.frame(["entity_type", "entity_id", "typology", "ring_id", "time"])
    is_seller = lb["entity_type"].to_numpy(object) == "seller"
    ent = lb["entity_id"].to_numpy(int)
    lb["entity_id"] = np.where(is_seller, seller_ids[np.minimum(ent, S - 1)], acc_ids[np.minimum(ent, A - 1)])
    lb["time"] = ts(np.minimum(lb["time"].to_numpy(np.int64), t_end - 1))
    return {"accounts": accounts_frame, "sellers": sellers_frame, "logins": lg.reset_index(drop=True),
            "account_changes": chg.reset_index(drop=True), "sessions": ss.reset_index(drop=True),
            "orders": orders_frame, "refunds": refunds.reset_index(drop=True), "reviews": reviews.reset_index(drop=True),
            "labels": lb}


def split_period(tables: dict[str, pd.DataFrame], at) -> tuple[dict, dict]:
    """Two exports of one marketplace, before and from ``at``: event tables by time, accounts and sellers as
    snapshots at each export's end, labels by the period their entity acted in (an account labelled in both
    keeps both rows)."""
    at = pd.Timestamp(at)
    time_col = {"logins": "time", "account_changes": "time", "sessions": "start", "orders": "time",
                "refunds": "time", "reviews": "time"}
    first, second = {}, {}
    for name, frame in tables.items():
        if name in time_col:
            when = pd.to_datetime(frame[time_col[name]])
            first[name], second[name] = frame[when < at].reset_index(drop=True), frame[when >= at].reset_index(drop=True)
    for name in ("accounts", "sellers"):
        frame = tables[name]
        first[name] = frame[pd.to_datetime(frame["created_at"]) < at].reset_index(drop=True)
        second[name] = frame
    if "labels" in tables:
        labels = tables["labels"]
        active = {"first": set(), "second": set()}
        for part, key in ((first, "first"), (second, "second")):
            o = part["orders"]
            active[key] |= set(o["account_id"]) | set(o["seller_id"]) | set(part["logins"]["account_id"])
        # a takeover is one episode: it belongs to the export its confirmation falls in (the owner has the account
        # back afterwards); a fake account, an abusive buyer or seller stays one in every export it acts in
        episode = labels["typology"].eq("account_takeover").to_numpy()
        before = (pd.to_datetime(labels["time"]) < at).to_numpy()
        in_first = np.where(episode, before, labels["entity_id"].isin(active["first"]))
        in_second = np.where(episode, ~before, labels["entity_id"].isin(active["second"]))
        first["labels"] = labels[in_first].reset_index(drop=True)
        second["labels"] = labels[in_second].reset_index(drop=True)
    return first, second


def write(tables: dict[str, pd.DataFrame], out, fmt: str = "parquet") -> list:
    """One file per table, named after it (``orders.parquet`` or ``orders.csv``)."""
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        paths.append(path)
    return paths
