"""Per-entity aggregates of one export's events, with the earlier events (the model's state, ``--history``) as
context: what is new for an account (device, IP, address) is new against everything seen before.

``build`` returns one frame per entity type (accounts, sellers) indexed by id, holding every signal the rules
and the models read, plus the entity graph and the orders with their per-order signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niaga.abuse.address import normalize_addresses
from niaga.abuse.graph import EntityGraph
from niaga.abuse.schema import SCHEMA

HOUR = 3600
DAY = 86_400
SECURITY_FIELDS = ("password", "phone", "email", "address", "bank_account", "payout_account")
RESELLABLE = ("electronics", "voucher", "pulsa", "gadget", "handphone", "game", "gift_card")
GENERIC_WORDS = 2  # a review of at most this many words is "short and generic"
TIME_COLUMN = {"logins": "time", "account_changes": "time", "sessions": "start", "orders": "time", "refunds": "time",
               "reviews": "time"}
KEYS = {"orders": ["order_id"], "refunds": ["refund_id"], "reviews": ["review_id"],
        "logins": ["account_id", "time", "success", "device_id", "ip"], "sessions": ["account_id", "start", "device_id"],
        "account_changes": ["account_id", "time", "field"]}


@dataclass
class Features:
    accounts: pd.DataFrame
    sellers: pd.DataFrame
    orders: pd.DataFrame
    graph: EntityGraph
    period: tuple[pd.Timestamp, pd.Timestamp]


def seconds(values: pd.Series) -> np.ndarray:
    """Date-times as int64 seconds (NaT → minimum int)."""
    return values.astype("datetime64[ns]").to_numpy().astype("datetime64[s]").astype(np.int64)


def combine(current: dict[str, pd.DataFrame], history: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    """History + current rows of every table, each with ``_current``; a row in both (by its key) counts once,
    as current. Snapshots (accounts, sellers): the current one wins, history adds the ids it lacks."""
    out = {}
    for name in SCHEMA:
        if name == "labels":
            continue
        cur = current.get(name)
        old = (history or {}).get(name)
        frames = []
        if old is not None and len(old):
            frames.append(old.assign(_current=False))
        if cur is not None:
            frames.append(cur.assign(_current=True))
        if not frames:
            continue
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
        key = {"accounts": ["account_id"], "sellers": ["seller_id"]}.get(name) or [
            c for c in KEYS.get(name, []) if c in frame.columns]
        if len(frames) > 1 and key:
            frame = frame.drop_duplicates(key, keep="last").reset_index(drop=True)
        # a missing optional column is an empty one here (the loader's summary has named it)
        for missing in (c for c in SCHEMA[name][1] if c not in frame.columns):
            frame[missing] = pd.Series(pd.NaT if missing in ("delivered_at",) else None, index=frame.index,
                                       dtype="datetime64[ns]" if missing == "delivered_at" else object)
        out[name] = frame
    return out


def column(frame: pd.DataFrame, name: str, default=None) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object if default is None else None)


def first_seen(events: list[pd.DataFrame], kind: str) -> pd.Series:
    """(account_id, value) → the first time the account used that device / IP / address."""
    parts = [e[["account_id", kind, "t"]].dropna() for e in events if kind in e.columns and len(e)]
    if not parts:
        return pd.Series(dtype=np.int64)
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(["account_id", kind])["t"].min()


def lookup(index_frame: pd.DataFrame, series: pd.Series, columns: list[str]) -> np.ndarray:
    if not len(series):
        return np.full(len(index_frame), np.iinfo(np.int64).max)
    if len(columns) == 1:
        keys = pd.Index(index_frame[columns[0]].to_numpy(object))
    else:
        keys = pd.MultiIndex.from_frame(index_frame[columns].astype(object))
    return series.reindex(keys).fillna(np.iinfo(np.int64).max).to_numpy(np.int64)


def last_before(left: pd.DataFrame, right: pd.DataFrame, by: str = "account_id") -> np.ndarray:
    """For each left row, the time of the last right row of the same account at or before it (or -1)."""
    if not len(left) or not len(right):
        return np.full(len(left), -1, dtype=np.int64)
    l_ = pd.DataFrame({"by": left[by].to_numpy(object), "t": left["t"].to_numpy(np.int64), "i": np.arange(len(left))}
                      ).sort_values("t", kind="stable")
    r_ = pd.DataFrame({"by": right[by].to_numpy(object), "t": right["t"].to_numpy(np.int64)}).sort_values(
        "t", kind="stable")
    r_["rt"] = r_["t"]
    merged = pd.merge_asof(l_, r_, on="t", by="by", direction="backward")
    out = np.full(len(left), -1, dtype=np.int64)
    out[merged["i"].to_numpy()] = merged["rt"].fillna(-1).to_numpy(np.int64)
    return out


def burst_flags(orders: pd.DataFrame, per_hour: int = 3) -> np.ndarray:
    """Orders in a burst of ``per_hour`` or more orders by one buyer at one seller within an hour (Shopee's
    brushing rule)."""
    if len(orders) < per_hour:
        return np.zeros(len(orders), bool)
    o = pd.DataFrame({"s": orders["seller_id"].to_numpy(object), "a": orders["account_id"].to_numpy(object),
                      "t": orders["t"].to_numpy(np.int64), "i": np.arange(len(orders))}).sort_values(["s", "a", "t"])
    s, a, t, i = (o[c].to_numpy() for c in ("s", "a", "t", "i"))
    k = per_hour - 1
    same = (s[k:] == s[:-k]) & (a[k:] == a[:-k]) & (t[k:] - t[:-k] <= HOUR)
    flag = np.zeros(len(o), bool)
    for shift in range(per_hour):
        flag[shift:len(o) - k + shift] |= same
    out = np.zeros(len(orders), bool)
    out[i[flag]] = True
    return out


def build(current: dict[str, pd.DataFrame], history: dict[str, pd.DataFrame] | None = None,
          graph: EntityGraph | None = None) -> Features:
    data = combine(current, history)
    orders = data["orders"].copy()
    orders["t"] = seconds(orders["time"])
    cur_times = [seconds(current[n][c]) for n, c in TIME_COLUMN.items() if n in current and len(current[n])]
    cur_times = np.concatenate(cur_times) if cur_times else np.array([0])
    p_start, p_end = int(cur_times.min()), int(cur_times.max()) + 1
    accounts = data.get("accounts", pd.DataFrame(columns=["account_id", "created_at", "_current"]))
    created = pd.Series(seconds(accounts["created_at"]), index=accounts["account_id"].to_numpy(object))
    created = created[~created.index.duplicated()]

    def events(name):
        frame = data.get(name)
        if frame is None or not len(frame):
            return pd.DataFrame(columns=[*SCHEMA[name][0], *SCHEMA[name][1], "_current", "t"])
        frame = frame.copy()
        frame["t"] = seconds(frame[TIME_COLUMN[name]])
        return frame

    logins, changes, sessions = events("logins"), events("account_changes"), events("sessions")
    refunds, reviews = events("refunds"), events("reviews")
    signup = pd.DataFrame({"account_id": created.index.to_numpy(object), "t": created.to_numpy(np.int64),
                           "device_id": column(accounts, "signup_device_id").to_numpy(object)[
                               ~accounts["account_id"].duplicated().to_numpy()],
                           "ip": column(accounts, "signup_ip").to_numpy(object)[
                               ~accounts["account_id"].duplicated().to_numpy()]})
    orders["address_key"] = normalize_addresses(column(orders, "shipping_address"))
    ok_logins = logins[logins["success"].fillna(False).astype(bool)] if len(logins) else logins

    # -- active accounts --------------------------------------------------------------------------------
    active = pd.Index(pd.unique(np.concatenate([
        f.loc[f["_current"].astype(bool), "account_id"].to_numpy(object) for f in (orders, logins, changes, sessions)
        if len(f)] + [created.index[(created >= p_start) & (created < p_end)].to_numpy(object)])))
    acc = pd.DataFrame(index=active)
    acc.index.name = "account_id"
    first_event = pd.concat([f[["account_id", "t"]] for f in (orders, ok_logins, sessions, signup) if len(f)]
                            ).groupby("account_id")["t"].min()

    # -- account takeover: stuffing, new devices, change-then-order -------------------------------------------
    seen_device = first_seen([ok_logins, sessions, orders, signup], "device_id")
    seen_ip = first_seen([ok_logins, orders, signup], "ip")
    if len(logins):
        ip_stats = logins.assign(fail=~logins["success"].fillna(False).astype(bool)).groupby("ip").agg(
            n=("fail", "size"), fails=("fail", "sum"))
        fail_accounts = logins[~logins["success"].fillna(False).astype(bool)].groupby("ip")["account_id"].nunique()
        ip_stats["fail_accounts"] = fail_accounts.reindex(ip_stats.index).fillna(0)
        stuffing_ips = set(ip_stats.index[(ip_stats["fail_accounts"] >= 5) & (ip_stats["fails"] / ip_stats["n"] >= 0.5)])
        dev_fail = logins[~logins["success"].fillna(False).astype(bool)].groupby("device_id")["account_id"].nunique()
        stuffing_devices = set(dev_fail.index[dev_fail >= 5])
        from_stuffing = logins["ip"].isin(stuffing_ips) | logins["device_id"].isin(stuffing_devices)
        cur = logins["_current"].astype(bool)
        failed = ~logins["success"].fillna(False).astype(bool)
        acc["failed_logins"] = logins[cur & failed].groupby("account_id").size().reindex(active).fillna(0)
        acc["stuffing_attempts"] = logins[cur & failed & from_stuffing].groupby("account_id").size().reindex(active).fillna(0)
        acc["stuffing_ip_logins"] = logins[cur & ~failed & from_stuffing].groupby("account_id").size().reindex(active).fillna(0)
    else:
        acc["failed_logins"] = acc["stuffing_attempts"] = acc["stuffing_ip_logins"] = 0.0
    L = ok_logins[ok_logins["_current"].astype(bool)].copy() if len(ok_logins) else ok_logins.copy()
    if len(L):
        known_before = lookup(L, first_event, ["account_id"]) < L["t"].to_numpy(np.int64)
        L["new_device"] = (lookup(L, seen_device, ["account_id", "device_id"]) >= L["t"].to_numpy()) & known_before & L["device_id"].notna().to_numpy()
        L["new_ip"] = (lookup(L, seen_ip, ["account_id", "ip"]) >= L["t"].to_numpy()) & known_before & L["ip"].notna().to_numpy()
        otp = column(L, "otp").fillna(False).astype(bool).to_numpy() if "otp" in L.columns else np.zeros(len(L), bool)
        L["otp_"] = otp
        g = L.groupby("account_id")
        acc["new_device_logins"] = g["new_device"].sum().reindex(active).fillna(0)
        acc["new_device_new_ip_logins"] = L[L["new_device"] & L["new_ip"]].groupby("account_id").size().reindex(active).fillna(0)
        acc["new_device_logins_without_otp"] = L[L["new_device"] & ~L["otp_"]].groupby("account_id").size().reindex(active).fillna(0)
        nd = L[L["new_device"]]
    else:
        acc["new_device_logins"] = acc["new_device_new_ip_logins"] = acc["new_device_logins_without_otp"] = 0.0
        nd = L
    C = changes[changes["_current"].astype(bool) & changes["field"].isin(SECURITY_FIELDS)].copy() if len(changes) else changes
    if len(C):
        last_nd = last_before(C, nd)
        C["hours_after_new_device"] = np.where(last_nd >= 0, (C["t"].to_numpy() - last_nd) / HOUR, np.inf)
        g = C.groupby("account_id")
        acc["security_changes"] = g.size().reindex(active).fillna(0)
        acc["changes_24h_after_new_device"] = C[C["hours_after_new_device"] <= 24].groupby("account_id").size().reindex(active).fillna(0)
        acc["min_hours_new_device_to_change"] = g["hours_after_new_device"].min().reindex(active).fillna(np.inf).clip(upper=999)
        acc["contact_changes"] = C[C["field"].isin(("phone", "email"))].groupby("account_id").size().reindex(active).fillna(0)
    else:
        acc["security_changes"] = acc["changes_24h_after_new_device"] = acc["contact_changes"] = 0.0
        acc["min_hours_new_device_to_change"] = 999.0
    O = orders[orders["_current"].astype(bool)].copy()
    last_change = last_before(O, C) if len(C) else np.full(len(O), -1)
    O["hours_after_change"] = np.where(last_change >= 0, (O["t"].to_numpy() - last_change) / HOUR, np.inf)
    seen_address = first_seen([orders.rename(columns={"address_key": "address"})], "address")
    known_buyer = lookup(O, orders.groupby("account_id")["t"].min(), ["account_id"]) < O["t"].to_numpy()
    O["new_address"] = (lookup(O.rename(columns={"address_key": "address"}), seen_address, ["account_id", "address"])
                        >= O["t"].to_numpy()) & known_buyer & O["address_key"].notna().to_numpy()
    O["resellable"] = column(O, "category").astype("string").str.lower().isin(RESELLABLE).fillna(False).to_numpy(bool)
    after = O["hours_after_change"].to_numpy() <= 48
    O["after_change"] = after
    acc["orders_after_change_48h"] = O[after].groupby("account_id").size().reindex(active).fillna(0)
    acc["new_address_orders_after_change"] = O[after & O["new_address"]].groupby("account_id").size().reindex(active).fillna(0)
    acc["resellable_amount_after_change"] = O[after & O["resellable"]].groupby("account_id")["amount"].sum().reindex(active).fillna(0)
    acc["min_hours_change_to_order"] = O.groupby("account_id")["hours_after_change"].min().reindex(active).fillna(np.inf).clip(upper=999)
    acc["new_address_orders"] = O[O["new_address"]].groupby("account_id").size().reindex(active).fillna(0)
    S_ = sessions[sessions["_current"].astype(bool)] if len(sessions) else sessions
    if len(S_) and "events" in S_.columns and "seconds" in S_.columns:
        rate = S_["events"].astype(float) / S_["seconds"].astype(float).clip(lower=1)
        acc["max_clicks_per_second"] = rate.groupby(S_["account_id"]).max().reindex(active).fillna(0)
        acc["median_clicks_per_second"] = rate.groupby(S_["account_id"]).median().reindex(active).fillna(0)
        fast_new = S_.assign(rate=rate.to_numpy())
        known = lookup(fast_new, seen_device, ["account_id", "device_id"])
        fast_new = fast_new[(fast_new["t"].to_numpy() - known <= HOUR)]
        acc["new_device_clicks_per_second"] = fast_new.groupby("account_id")["rate"].max().reindex(active).fillna(0)
    else:
        acc["max_clicks_per_second"] = acc["median_clicks_per_second"] = acc["new_device_clicks_per_second"] = 0.0

    # -- orders, refunds, vouchers ------------------------------------------------------------------------------
    voucher = (column(orders, "voucher_amount", 0).fillna(0).astype(float) > 0).to_numpy()
    first_ids = orders.sort_values("t", kind="stable").drop_duplicates("account_id")
    account_created = lookup(first_ids, created, ["account_id"])
    history_start = int(orders["t"].min())
    new_account = (account_created >= history_start - DAY) & (account_created < np.iinfo(np.int64).max)
    first_voucher = pd.Series(voucher[first_ids.index.to_numpy()] & new_account, index=first_ids["account_id"].to_numpy(object))
    acc["first_order_voucher"] = first_voucher.reindex(active).fillna(False).astype(float)
    acc["created_in_period"] = ((created.reindex(active) >= p_start)).astype(float).to_numpy()
    age = (O.groupby("account_id")["t"].min() - created.reindex(O["account_id"].unique())).reindex(active) / DAY
    acc["account_age_days_first_order"] = age.fillna(9999).clip(lower=0, upper=9999)
    acc["orders"] = O.groupby("account_id").size().reindex(active).fillna(0)
    acc["order_amount"] = O.groupby("account_id")["amount"].sum().reindex(active).fillna(0)
    acc["voucher_orders"] = O.assign(v=voucher[O.index.to_numpy()]).groupby("account_id")["v"].sum().reindex(active).fillna(0)
    order_info = orders[["order_id", "account_id", "seller_id", "t", "amount"]].assign(
        delivered=seconds(column(orders, "delivered_at")) if "delivered_at" in orders.columns else np.iinfo(np.int64).min)
    R = refunds.merge(order_info, on="order_id", how="left", suffixes=("", "_order")) if len(refunds) else None
    all_orders_by_account = orders.groupby("account_id").size()
    if R is not None and len(R):
        R = R[R["account_id"].notna()]
        R["no_evidence"] = ~column(R, "evidence").fillna(False).astype(bool).to_numpy()
        R["claim_kind"] = column(R, "reason").astype("string").str.lower().isin(("not_received", "damaged")).fillna(False).to_numpy(bool)
        R["hours_after_delivery"] = np.where(R["delivered"] > 0, (R["t"] - R["delivered"]) / HOUR, np.nan)
        g = R.groupby("account_id")
        refunds_n = g.size()
        acc["refunds"] = refunds_n.reindex(active).fillna(0)
        acc["refund_share"] = (refunds_n / all_orders_by_account.reindex(refunds_n.index)).reindex(active).fillna(0).clip(upper=1)
        acc["refunds_without_evidence"] = g["no_evidence"].sum().reindex(active).fillna(0)
        acc["refund_claims_nr_damaged"] = g["claim_kind"].sum().reindex(active).fillna(0)
        acc["median_hours_delivery_to_claim"] = g["hours_after_delivery"].median().reindex(active).fillna(999)
        acc["refunded_sellers"] = g["seller_id"].nunique().reindex(active).fillna(0)
        seller_refunds = R.groupby("seller_id").size()
        seller_orders = orders.groupby("seller_id").size()
        seller_rate = (seller_refunds.reindex(seller_orders.index).fillna(0) / seller_orders)
        # claims that cluster on the seller are the seller's problem: compare with the sellers bought from
        mean_seller_rate = orders.assign(r=seller_rate.reindex(orders["seller_id"]).to_numpy()).groupby("account_id")["r"].mean()
        acc["refund_excess_over_sellers"] = (acc["refund_share"] - mean_seller_rate.reindex(active).fillna(0)).clip(lower=-1)
        peers = acc["refund_share"][all_orders_by_account.reindex(active).fillna(0) >= 2]
        spread = max(float(peers.std() or 0), 1e-3)
        acc["refund_share_vs_peers"] = (acc["refund_share"] - float(peers.mean() if len(peers) else 0)) / spread
    else:
        for name in ("refunds", "refund_share", "refunds_without_evidence", "refund_claims_nr_damaged", "refunded_sellers",
                     "refund_excess_over_sellers", "refund_share_vs_peers"):
            acc[name] = 0.0
        acc["median_hours_delivery_to_claim"] = 999.0
    acc["orders_all"] = all_orders_by_account.reindex(active).fillna(0)

    # -- the entity graph ------------------------------------------------------------------------------------
    if graph is None:
        graph = EntityGraph().fit(data, accounts=active)
    sharing = graph.max_sharing(active)
    acc = acc.join(sharing)
    acc["graph_degree"] = graph.degree_of(active)
    ring = graph.ring_of(active)
    acc["ring"] = ring
    pairs = graph.pairs_
    fv = first_voucher.reindex(pairs["account_id"]).fillna(False).to_numpy(bool)
    vcount = pairs.assign(v=fv).groupby(["kind", "value"])["v"].transform("sum")
    per_kind = pairs.assign(v=vcount.to_numpy()).pivot_table(index="account_id", columns="kind", values="v", aggfunc="max")
    for kind in ("device", "address", "payment", "ip"):
        acc[f"voucher_accounts_per_{kind}"] = (per_kind[kind].reindex(active).fillna(0) if kind in per_kind.columns
                                               else 0.0)
    # rings: size, how fast its accounts were made, how many took the first-order voucher, its refunds
    ring_frame = pd.DataFrame({"ring": ring, "created": created.reindex(active).to_numpy(float),
                               "voucher": acc["first_order_voucher"].to_numpy(), "new": acc["created_in_period"].to_numpy(),
                               "refunds": acc["refunds"].to_numpy(), "orders": acc["orders_all"].to_numpy(),
                               "nd": (acc["changes_24h_after_new_device"] > 0).to_numpy(float)}, index=active)
    in_ring = ring_frame[ring_frame["ring"] >= 0]
    # the ring's full membership (history accounts too) counts toward its size
    full_size = pd.Series(graph.ring_[graph.ring_ >= 0]).value_counts()
    rg = in_ring.groupby("ring")
    stats = pd.DataFrame({"ring_size": full_size.reindex(rg.size().index).fillna(rg.size()),
                          "ring_created_span_hours": (rg["created"].max() - rg["created"].min()) / HOUR,
                          "ring_voucher_share": rg["voucher"].mean(), "ring_new_share": rg["new"].mean(),
                          "ring_refund_share": rg["refunds"].sum() / rg["orders"].sum().clip(lower=1),
                          "ring_takeover_share": rg["nd"].mean()})
    # how many of the ring's accounts were made within a week of this one: a promo ring is made in a burst, a
    # kos or a household over months or years
    close = np.zeros(len(ring_frame))
    position = pd.Series(np.arange(len(ring_frame)), index=ring_frame.index)
    for _, members in in_ring.groupby("ring")["created"]:
        made = np.sort(members.to_numpy(float))
        within = (np.searchsorted(made, members.to_numpy(float) + 7 * DAY, side="right")
                  - np.searchsorted(made, members.to_numpy(float) - 7 * DAY, side="left") - 1)
        close[position[members.index].to_numpy()] = within
    acc["ring_made_within_week"] = close
    joined = stats.reindex(ring)
    for name in stats.columns:
        default = 999.0 if name == "ring_created_span_hours" else (1.0 if name == "ring_size" else 0.0)
        acc[name] = joined[name].fillna(default).to_numpy()

    # -- sellers: brushing and fake sellers ------------------------------------------------------------------------
    O["burst"] = burst_flags(O)
    sellers = data.get("sellers")
    seller_ids = pd.Index(pd.unique(O["seller_id"].to_numpy(object)))
    sel = pd.DataFrame(index=seller_ids)
    sel.index.name = "seller_id"
    g = O.groupby("seller_id")
    sel["orders"] = g.size()
    sel["buyers"] = g["account_id"].nunique()
    sel["orders_per_buyer"] = sel["orders"] / sel["buyers"]
    sel["burst_orders"] = g["burst"].sum()
    sel["burst_share"] = sel["burst_orders"] / sel["orders"]
    sel["burst_buyers"] = O[O["burst"]].groupby("seller_id")["account_id"].nunique().reindex(seller_ids).fillna(0)
    day = O["t"] // DAY
    per_day = day.value_counts()
    busy = per_day / max(float(per_day.median()), 1.0)
    O["busy_day"] = busy.reindex(day).to_numpy() >= 2.0
    sel["burst_on_busy_days_share"] = (O[O["burst"]].groupby("seller_id")["busy_day"].mean().reindex(seller_ids).fillna(0))
    top_buyer = O.groupby(["seller_id", "account_id"]).size().groupby("seller_id").max()
    sel["top_buyer_share"] = top_buyer.reindex(seller_ids) / sel["orders"]
    # buyers linked to one another (or to the seller's own account) in the entity graph
    O["buyer_ring"] = graph.ring_of(O["account_id"].to_numpy(object))
    ring_buyers = O[O["buyer_ring"] >= 0].groupby(["seller_id", "buyer_ring"])["account_id"].nunique()
    linked_rings = ring_buyers[ring_buyers >= 2].reset_index()[["seller_id", "buyer_ring"]]
    owner_ring = pd.Series(dtype=np.int64)
    if sellers is not None and "account_id" in sellers.columns:
        owners = sellers.dropna(subset=["account_id"]).drop_duplicates("seller_id")
        owner_ring = pd.Series(graph.ring_of(owners["account_id"].to_numpy(object)), index=owners["seller_id"].to_numpy(object))
        owner_ring = owner_ring[owner_ring >= 0]
        linked_rings = pd.concat([linked_rings, pd.DataFrame({"seller_id": owner_ring.index, "buyer_ring": owner_ring.to_numpy()})])
    linked = O.merge(linked_rings.drop_duplicates().assign(linked=True), on=["seller_id", "buyer_ring"], how="left")
    sel["linked_buyer_share"] = linked["linked"].notna().groupby(linked["seller_id"]).mean().reindex(seller_ids).fillna(0)
    burst_ring = linked[linked["burst"] & linked["linked"].notna()].groupby("seller_id")["buyer_ring"].agg(
        lambda s: s.value_counts().index[0])
    sel["ring"] = owner_ring.reindex(seller_ids).fillna(burst_ring.reindex(seller_ids)).fillna(-1).astype(np.int64)
    if len(reviews):
        Rv = reviews.merge(O[["order_id", "seller_id"]], on="order_id", how="inner")
        words = column(Rv, "text").astype("string").fillna("").str.split().str.len().fillna(0).to_numpy()
        Rv["five_generic"] = (Rv["rating"].to_numpy(float) >= 5) & (words <= GENERIC_WORDS)
        gr = Rv.groupby("seller_id")
        sel["review_share"] = (gr.size() / sel["orders"]).reindex(seller_ids).fillna(0)
        sel["five_star_share"] = (Rv["rating"] >= 5).groupby(Rv["seller_id"]).mean().reindex(seller_ids).fillna(0)
        sel["five_star_generic_share"] = gr["five_generic"].mean().reindex(seller_ids).fillna(0)
    else:
        sel["review_share"] = sel["five_star_share"] = sel["five_star_generic_share"] = 0.0
    seller_created = pd.Series(dtype=np.int64)
    if sellers is not None:
        seller_created = pd.Series(seconds(sellers["created_at"]), index=sellers["seller_id"].to_numpy(object))
        seller_created = seller_created[~seller_created.index.duplicated()]
    first_order = orders.groupby("seller_id")["t"].min()
    sel["seller_age_days"] = ((g["t"].min() - seller_created.reindex(seller_ids)) / DAY).reindex(seller_ids).fillna(
        ((g["t"].min() - first_order.reindex(seller_ids)) / DAY)).clip(lower=0)
    cat = column(O, "category").astype("string").fillna("?")
    median_price = O.groupby(cat.to_numpy(object))["amount"].median()
    O["price_ratio"] = O["amount"].to_numpy(float) / median_price.reindex(cat.to_numpy(object)).to_numpy(float).clip(min=1)
    sel["median_price_ratio"] = O.groupby("seller_id")["price_ratio"].median()
    status = column(O, "status").astype("string").str.lower()
    shippable = ~status.isin(("cancelled", "unpaid")).fillna(False).to_numpy(bool) & (O["t"].to_numpy() < p_end - 5 * DAY)
    if "delivered_at" in O.columns:
        undelivered = O["delivered_at"].isna().to_numpy() & shippable
        sel["undelivered_share"] = (pd.Series(undelivered, index=O.index).groupby(O["seller_id"]).sum()
                                    / pd.Series(shippable, index=O.index).groupby(O["seller_id"]).sum().clip(lower=1))
    else:
        sel["undelivered_share"] = 0.0
    if R is not None and len(R):
        Rs = R[R["seller_id"].isin(seller_ids)]
        nr = column(Rs, "reason").astype("string").str.lower().eq("not_received").fillna(False).to_numpy(bool)
        gs = Rs.assign(nr=nr).groupby("seller_id")
        sel["refund_share"] = (gs.size() / sel["orders"]).reindex(seller_ids).fillna(0).clip(upper=1)
        sel["not_received_share"] = (gs["nr"].sum() / sel["orders"]).reindex(seller_ids).fillna(0).clip(upper=1)
        sel["claims_with_evidence_share"] = (1 - gs["no_evidence"].mean()).reindex(seller_ids).fillna(0)
        sel["claim_buyers_share"] = (gs["account_id"].nunique() / sel["buyers"]).reindex(seller_ids).fillna(0)
    else:
        sel["refund_share"] = sel["not_received_share"] = sel["claims_with_evidence_share"] = sel["claim_buyers_share"] = 0.0
    sel["orders_first_14_days"] = O[(O["t"] - seller_created.reindex(O["seller_id"]).fillna(-1e18).to_numpy()) < 14 * DAY
                                    ].groupby("seller_id").size().reindex(seller_ids).fillna(0)
    sel = sel.fillna(0)
    acc = acc.replace([np.inf, -np.inf], 999).fillna(0)
    return Features(accounts=acc, sellers=sel, orders=O, graph=graph,
                    period=(pd.Timestamp(p_start, unit="s"), pd.Timestamp(p_end, unit="s")))
