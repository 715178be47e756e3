"""Decisions for one login, one security change or one order at a time, from an online state kept in memory.

The state starts from a model's carried tables (or any export) and is updated by every event it sees: the devices,
IPs and addresses each account has used, failed logins per IP and device (credential stuffing), each account's
last new-device login and last security change, which devices / addresses / payment accounts carried a new
account's first-order voucher, each buyer's recent orders per seller (3 per hour: brushing) and the rings of the
entity graph. Each decision reads a few dict entries: well under a millisecond. The reasons carry the ids of the
batch rules they mirror (niaga/resources/abuse_rules.yaml).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

import pandas as pd

from niaga.abuse.address import normalize_address
from niaga.abuse.features import RESELLABLE, SECURITY_FIELDS
from niaga.abuse.rules import DEFAULT_THRESHOLDS
from niaga.errors import DataError

HOUR = 3600
STUFFING_ACCOUNTS = 5  # failed logins on this many accounts from one IP or device: credential stuffing
VOUCHER_ACCOUNTS = 3  # new accounts redeeming the first-order voucher on one device / address / payment account


@dataclass
class Decision:
    decision: str
    score: float
    typology: str | None
    reasons: list[str]


def decide(score: float, thresholds=DEFAULT_THRESHOLDS) -> str:
    for name in ("block", "review", "otp"):
        if score >= thresholds[name]:
            return name
    return "approve"


class OnlineState:
    """The per-entity state (see the module docstring); ``login``, ``change`` and ``order`` decide and update."""

    def __init__(self, thresholds: dict | None = None):
        self.thresholds = dict(thresholds or DEFAULT_THRESHOLDS)
        self.devices: dict[str, set] = defaultdict(set)
        self.ips: dict[str, set] = defaultdict(set)
        self.addresses: dict[str, set] = defaultdict(set)
        self.failed_by_ip: dict[str, set] = defaultdict(set)
        self.failed_by_device: dict[str, set] = defaultdict(set)
        self.attempts: dict[str, list] = defaultdict(lambda: [0, 0])  # IP or device → [failed, all] login attempts
        self.targeted: dict[str, float] = {}  # account → last failed login from a stuffing source
        self.new_device_login: dict[str, float] = {}
        self.new_device_otp: dict[str, bool] = {}
        self.last_change: dict[str, float] = {}
        self.takeover_login: dict[str, float] = {}  # account → last login decided as a takeover
        self.ordered: set = set()
        self.voucher_accounts: dict[tuple[str, str], set] = defaultdict(set)
        self.recent: dict[tuple[str, str], deque] = defaultdict(deque)
        self.ring: dict[str, str] = {}
        self.flagged_rings: set = set()
        self.lock = threading.Lock()

    # -- building from tables --------------------------------------------------------------------------
    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], rings: dict[str, str] | None = None,
                    flagged_rings=(), thresholds: dict | None = None) -> "OnlineState":
        state = cls(thresholds)
        accounts = tables.get("accounts")
        if accounts is not None and len(accounts):
            for a, d, ip in zip(accounts["account_id"], accounts.get("signup_device_id", [None] * len(accounts)),
                                accounts.get("signup_ip", [None] * len(accounts))):
                if isinstance(d, str):
                    state.devices[a].add(d)
                if isinstance(ip, str):
                    state.ips[a].add(ip)
        logins = tables.get("logins")
        if logins is not None and len(logins):
            ok = logins["success"].fillna(False).astype(bool).to_numpy()
            for a, d, ip, good in zip(logins["account_id"], logins.get("device_id", [None] * len(logins)),
                                      logins.get("ip", [None] * len(logins)), ok):
                state._count(ip, d, good)
                if good:
                    if isinstance(d, str):
                        state.devices[a].add(d)
                    if isinstance(ip, str):
                        state.ips[a].add(ip)
                else:
                    if isinstance(ip, str):
                        state.failed_by_ip[ip].add(a)
                    if isinstance(d, str):
                        state.failed_by_device[d].add(a)
        orders = tables.get("orders")
        if orders is not None and len(orders):
            orders = orders.sort_values("time", kind="stable")
            voucher = pd.to_numeric(orders.get("voucher_amount", pd.Series(0, index=orders.index)),
                                    errors="coerce").fillna(0).to_numpy() > 0
            keys = [normalize_address(v) for v in orders.get("shipping_address", [None] * len(orders))]
            for a, d, pay, key, v in zip(orders["account_id"], orders.get("device_id", [None] * len(orders)),
                                         orders.get("payment_account", [None] * len(orders)), keys, voucher):
                if a not in state.ordered and v:
                    for kind, value in (("device", d), ("payment", pay), ("address", key)):
                        if isinstance(value, str):
                            state.voucher_accounts[(kind, value)].add(a)
                state.ordered.add(a)
                if isinstance(d, str):
                    state.devices[a].add(d)
                if key:
                    state.addresses[a].add(key)
        state.ring = dict(rings or {})
        state.flagged_rings = set(flagged_rings)
        return state

    # -- events -----------------------------------------------------------------------------------------
    def _count(self, ip, device, success: bool) -> None:
        for source in (ip, device):
            if isinstance(source, str):
                counts = self.attempts[source]
                counts[0] += not success
                counts[1] += 1

    def _stuffing_source(self, source, failed: dict) -> bool:
        """Failed logins on many accounts, and mostly failures: a carrier-NAT IP where thousands of honest users
        mistype now and then is not one."""
        if not isinstance(source, str) or len(failed.get(source, ())) < STUFFING_ACCOUNTS:
            return False
        fails, total = self.attempts.get(source, (0, 1))
        return fails >= 0.5 * total

    def _stuffing(self, ip, device) -> bool:
        return self._stuffing_source(ip, self.failed_by_ip) or self._stuffing_source(device, self.failed_by_device)

    def login(self, account_id: str, time: float, success: bool, ip: str | None = None, device_id: str | None = None,
              otp: bool = False) -> Decision:
        with self.lock:
            reasons, score = [], 0.0
            self._count(ip, device_id, success)
            stuffing = self._stuffing(ip, device_id)
            if not success:
                if isinstance(ip, str):
                    self.failed_by_ip[ip].add(account_id)
                if isinstance(device_id, str):
                    self.failed_by_device[device_id].add(account_id)
                if self._stuffing(ip, device_id):
                    self.targeted[account_id] = time
                    return Decision("block", 0.95, "account_takeover",
                                    ["ATO05_STUFFING_TARGET: failed login from an IP or device that fails on many "
                                     "accounts (credential stuffing)"])
                return Decision("approve", 0.0, None, [])
            known = bool(self.devices.get(account_id) or self.ips.get(account_id))
            new_device = known and isinstance(device_id, str) and device_id not in self.devices[account_id]
            new_ip = known and isinstance(ip, str) and ip not in self.ips[account_id]
            targeted = time - self.targeted.get(account_id, -1e18) <= 7 * 24 * HOUR
            if stuffing:
                score = 0.95
                reasons.append("ATO01_STUFFING_THEN_TAKEOVER: successful login from an IP or device that failed on "
                               "many accounts")
            if new_device and new_ip and targeted:
                score = max(score, 0.9 if not otp else 0.3)
                reasons.append("ATO01_STUFFING_THEN_TAKEOVER: new device and IP on an account targeted by credential "
                               "stuffing this week")
            elif new_device and not otp:
                score = max(score, 0.5)
                reasons.append("ATO02_NEW_DEVICE_CHANGE_ORDER: new device without OTP")
            if new_device:
                self.new_device_login[account_id] = time
                self.new_device_otp[account_id] = bool(otp)
            if isinstance(device_id, str):
                self.devices[account_id].add(device_id)
            if isinstance(ip, str):
                self.ips[account_id].add(ip)
            if score and otp and not stuffing:  # the OTP was passed: the owner's new phone
                score = min(score, 0.29)
            if score >= self.thresholds["block"]:
                self.takeover_login[account_id] = time
            return Decision(decide(score, self.thresholds), score, "account_takeover" if score else None, reasons)

    def change(self, account_id: str, time: float, field: str, device_id: str | None = None, ip: str | None = None
               ) -> Decision:
        with self.lock:
            if field not in SECURITY_FIELDS:
                return Decision("approve", 0.0, None, [])
            self.last_change[account_id] = time
            since = time - self.new_device_login.get(account_id, -1e18)
            if since <= 24 * HOUR and not self.new_device_otp.get(account_id, False):
                return Decision("otp", 0.55, "account_takeover",
                                [f"ATO02_NEW_DEVICE_CHANGE_ORDER: {field} change {since / HOUR:.1f} h after a login "
                                 "from a new device without OTP"])
            return Decision("approve", 0.0, None, [])

    def order(self, account_id: str, seller_id: str, time: float, amount: float = 0.0, voucher_amount: float = 0.0,
              shipping_address: str | None = None, payment_account: str | None = None, device_id: str | None = None,
              category: str | None = None) -> Decision:
        with self.lock:
            scored: list[tuple[float, str, str]] = []
            key = normalize_address(shipping_address)
            since_change = time - self.last_change.get(account_id, -1e18)
            new_address = bool(key) and bool(self.addresses.get(account_id)) and key not in self.addresses[account_id]
            if time - self.takeover_login.get(account_id, -1e18) <= 48 * HOUR:
                scored.append((0.95, "account_takeover", "ATO01_STUFFING_THEN_TAKEOVER: order within 48 h of a login "
                                                         "judged a takeover"))
            if since_change <= 48 * HOUR and new_address and (category or "").lower() in RESELLABLE:
                scored.append((0.9, "account_takeover", "ATO03_CHANGE_THEN_RESELLABLE_TO_NEW_ADDRESS: resellable goods "
                                                        f"to a new address {since_change / HOUR:.1f} h after a "
                                                        "security change"))
            elif since_change <= 48 * HOUR and account_id in self.new_device_login and not self.new_device_otp.get(account_id):
                scored.append((0.6, "account_takeover", "ATO02_NEW_DEVICE_CHANGE_ORDER: order within 48 h of a "
                                                        "security change made after a new-device login"))
            first = account_id not in self.ordered
            if first and voucher_amount and voucher_amount > 0:
                for kind, value, rule in (("device", device_id, "PRM01_VOUCHER_PER_DEVICE"),
                                          ("payment", payment_account, "PRM02_VOUCHER_PER_PAYMENT"),
                                          ("address", key, "PRM03_VOUCHER_PER_ADDRESS")):
                    if isinstance(value, str):
                        users = self.voucher_accounts[(kind, value)]
                        users.add(account_id)
                        if len(users) >= VOUCHER_ACCOUNTS:
                            scored.append((0.75 if kind != "address" else 0.5, "promo_abuse",
                                           f"{rule}: first-order voucher on a {kind} {len(users)} new accounts used "
                                           "for theirs"))
            recent = self.recent[(account_id, seller_id)]
            while recent and time - recent[0] > HOUR:
                recent.popleft()
            recent.append(time)
            if len(recent) >= 3:
                scored.append((0.5, "brushing", f"BRU01_THREE_PER_BUYER_HOUR: order {len(recent)} by this buyer at "
                                                "this seller within an hour"))
            ring = self.ring.get(account_id)
            if ring is not None and ring in self.flagged_rings:
                scored.append((0.6, "promo_abuse", f"account of {ring}, a ring flagged by the batch scorer"))
            self.ordered.add(account_id)
            if isinstance(device_id, str):
                self.devices[account_id].add(device_id)
            if key:
                self.addresses[account_id].add(key)
            if not scored:
                return Decision("approve", 0.0, None, [])
            score, typology, _ = max(scored)
            return Decision(decide(score, self.thresholds), score, typology, [r for _, _, r in sorted(scored, reverse=True)])


def from_model(model, scored: pd.DataFrame | None = None) -> OnlineState:
    """The online state from a model's carried tables; ``scored`` (a batch score's output) adds its flagged rings."""
    rings, flagged = {}, ()
    if scored is not None and len(scored):
        member = scored[scored["entity_type"].eq("account") & scored["ring_id"].notna()]
        rings = dict(zip(member["entity_id"], member["ring_id"]))
        flagged = set(member["ring_id"])
    return OnlineState.from_tables(model.state_, rings, flagged)


def epoch_seconds(value) -> float:
    """An ISO date-time (WIB when it has no offset, as the batch tables) as seconds on the tables' clock."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"time: {str(value)[:40]!r} is not an ISO date-time") from exc
    if stamp is pd.NaT:
        raise DataError("time: empty")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("Asia/Jakarta").tz_localize(None)
    return stamp.value / 1e9
