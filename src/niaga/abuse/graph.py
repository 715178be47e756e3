"""The entity graph: accounts linked by what they share (devices, IPs, payment accounts, phones, normalized
shipping addresses), and rings as its communities.

Two accounts are linked when the weights of what they share add up to ``link_threshold``. A device, a payment
account, a phone or an address links on its own; so does an IP that at most four accounts use, and less the more
accounts use it, so a carrier-grade NAT address that thousands of honest users share links no one. An entity used by more than
``max_share`` accounts (a NAT IP, a mall's pickup point) is a hub and links no one. Rings are the connected
components of the links; a component larger than ``max_ring`` is split into Louvain communities (networkx) so
that one busy hub-like link does not merge unrelated groups. Only successful logins count: anyone can type
a user name, so credential stuffing's failed attempts link no one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from niaga.abuse.address import normalize_addresses

WEIGHTS = {"device": 1.0, "payment": 1.0, "phone": 1.0, "address": 1.0, "ip": 1.0}


def entity_pairs(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(account_id, kind, value): every entity an account used, once."""
    parts = []

    def add(frame, column, kind, account="account_id"):
        if frame is not None and column in frame.columns and account in frame.columns and len(frame):
            part = frame[[account, column]].dropna()
            parts.append(pd.DataFrame({"account_id": part[account].to_numpy(object), "kind": kind,
                                       "value": part[column].astype(str).to_numpy(object)}))

    logins = tables.get("logins")
    if logins is not None and len(logins):
        logins = logins[logins["success"].fillna(False).astype(bool)]
    orders = tables.get("orders")
    accounts = tables.get("accounts")
    for frame, column in ((logins, "device_id"), (tables.get("sessions"), "device_id"), (orders, "device_id"),
                          (tables.get("account_changes"), "device_id"), (accounts, "signup_device_id")):
        add(frame, column, "device")
    for frame, column in ((logins, "ip"), (orders, "ip"), (accounts, "signup_ip")):
        add(frame, column, "ip")
    add(orders, "payment_account", "payment")
    add(accounts, "phone", "phone")
    if orders is not None and "shipping_address" in orders.columns and len(orders):
        keyed = orders[["account_id"]].assign(address=normalize_addresses(orders["shipping_address"]))
        add(keyed, "address", "address")
    if not parts:
        return pd.DataFrame(columns=["account_id", "kind", "value"])
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def link_weights(pairs: pd.DataFrame, max_share: int = 30, ip_full_weight_up_to: int = 4) -> pd.DataFrame:
    """(a, b, weight) for every two accounts (codes) that share something, weights summed over what they share."""
    counts = pairs.groupby(["kind", "value"])["account_id"].transform("size")
    shared = pairs[(counts >= 2) & (counts <= max_share)].assign(n=counts[(counts >= 2) & (counts <= max_share)])
    if not len(shared):
        return pd.DataFrame({"a": np.array([], int), "b": np.array([], int), "weight": np.array([], float)})
    weight = shared["kind"].map(WEIGHTS).to_numpy(float)
    is_ip = (shared["kind"] == "ip").to_numpy()
    weight = np.where(is_ip, weight * np.minimum(1.0, ip_full_weight_up_to / shared["n"].to_numpy(float)), weight)
    shared = shared.assign(w=weight, code=shared["account_code"].to_numpy())
    # all pairs within each entity: a self-join on the entity's group
    group = shared.groupby(["kind", "value"]).ngroup().to_numpy()
    frame = pd.DataFrame({"g": group, "code": shared["code"].to_numpy(), "w": shared["w"].to_numpy()})
    joined = frame.merge(frame[["g", "code"]], on="g", suffixes=("_a", "_b"))
    joined = joined[joined["code_a"] < joined["code_b"]]
    links = joined.groupby(["code_a", "code_b"], sort=False)["w"].sum().reset_index()
    return links.rename(columns={"code_a": "a", "code_b": "b", "w": "weight"})


class EntityGraph:
    """Accounts, the entities they share, the links and the rings (see the module docstring)."""

    def __init__(self, link_threshold: float = 1.0, max_share: int = 30, max_ring: int = 40):
        self.link_threshold = link_threshold
        self.max_share = max_share
        self.max_ring = max_ring

    def fit(self, tables: dict[str, pd.DataFrame], accounts: pd.Index | None = None) -> "EntityGraph":
        pairs = entity_pairs(tables)
        ids = pd.Index(pd.unique(pd.concat([pairs["account_id"], pd.Series(accounts if accounts is not None else [],
                                                                                 dtype=object)])))
        pairs = pairs.assign(account_code=ids.get_indexer(pairs["account_id"]))
        self.accounts_ = ids
        self.pairs_ = pairs
        self.share_counts_ = pairs.groupby(["kind", "value"])["account_id"].size().rename("accounts")
        links = link_weights(pairs, self.max_share)
        strong = links[links["weight"] >= self.link_threshold]
        self.links_ = strong.reset_index(drop=True)
        n = len(ids)
        matrix = sparse.coo_matrix((np.ones(len(strong)), (strong["a"].to_numpy(int), strong["b"].to_numpy(int))),
                                   shape=(n, n))
        _, component = connected_components(matrix, directed=False)
        ring = component.astype(np.int64)
        sizes = np.bincount(ring)
        big = np.flatnonzero(sizes > self.max_ring)
        if len(big):
            ring = self._split(ring, big, strong)
        sizes = np.bincount(ring)
        self.ring_ = np.where(sizes[ring] >= 2, ring, -1)  # a lone account is in no ring
        self.degree_ = np.bincount(np.r_[strong["a"].to_numpy(int), strong["b"].to_numpy(int)], minlength=n)
        return self

    def _split(self, ring: np.ndarray, big: np.ndarray, strong: pd.DataFrame) -> np.ndarray:
        """Louvain communities (networkx) inside the components that are too large to be one ring."""
        try:
            import networkx as nx
        except ImportError:  # keep the components: large, but still a case the risk team can open
            return ring
        ring = ring.copy()
        next_id = ring.max() + 1
        a, b, w = strong["a"].to_numpy(int), strong["b"].to_numpy(int), strong["weight"].to_numpy(float)
        for component in big:
            inside = (ring[a] == component) & (ring[b] == component)
            graph = nx.Graph()
            graph.add_weighted_edges_from(zip(a[inside].tolist(), b[inside].tolist(), w[inside].tolist()))
            for community in nx.community.louvain_communities(graph, weight="weight", seed=0):
                ring[list(community)] = next_id
                next_id += 1
        return ring

    def ring_of(self, account_ids) -> np.ndarray:
        """The ring number of each account (-1: in no ring or unknown)."""
        codes = self.accounts_.get_indexer(pd.Index(account_ids))
        return np.where(codes >= 0, self.ring_[np.maximum(codes, 0)], -1)

    def degree_of(self, account_ids) -> np.ndarray:
        codes = self.accounts_.get_indexer(pd.Index(account_ids))
        return np.where(codes >= 0, self.degree_[np.maximum(codes, 0)], 0)

    def max_sharing(self, account_ids) -> pd.DataFrame:
        """Per account and entity kind: the most accounts any of its entities is shared by (itself included)."""
        pairs = self.pairs_.merge(self.share_counts_.reset_index(), on=["kind", "value"])
        table = pairs.pivot_table(index="account_id", columns="kind", values="accounts", aggfunc="max")
        table = table.reindex(index=pd.Index(account_ids), columns=list(WEIGHTS)).fillna(1)
        return table.add_prefix("accounts_per_")

    def ring_members(self, ring: int) -> tuple[list, pd.DataFrame]:
        """The accounts of one ring and what links them: (account ids, links with a, b, kind, value)."""
        codes = np.flatnonzero(self.ring_ == ring)
        members = self.accounts_[codes].tolist()
        pairs = self.pairs_[self.pairs_["account_code"].isin(codes)]
        counts = pairs.groupby(["kind", "value"])["account_id"].transform("size")
        return members, pairs[counts >= 2][["account_id", "kind", "value"]]
