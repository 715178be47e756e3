"""What a running server holds for abuse: the model, its online state, the case queue and the resolutions.

The case queue is the batch score of the export the model carries: a ring (linked accounts, or a seller with
its linked buyers) is one case, an account or seller outside any ring is a case of its own. Resolutions are
appended to a CSV file (case, verdict, note, time), so they survive a restart and can become labels.
"""

from __future__ import annotations

import csv
import datetime as _dt
import threading
from pathlib import Path

import pandas as pd

from niaga.abuse import pipeline, schema
from niaga.abuse.online import OnlineState, from_model
from niaga.errors import DataError

VERDICTS = ("abuse", "not_abuse")


class AbuseService:
    def __init__(self, model, resolutions: Path | None = None):
        self.model = model
        market = schema.from_frames(model.state_)
        features = pipeline.build_features(market, model)
        self.scored, _ = pipeline.score(market, model, orders=False, features=features)
        self.graph = features.graph
        self.online: OnlineState = from_model(model, self.scored)
        self.resolutions_path = resolutions
        self.resolved: dict[str, dict] = {}
        self._lock = threading.Lock()
        if resolutions is not None and Path(resolutions).exists():
            for row in csv.DictReader(Path(resolutions).open(encoding="utf-8")):
                self.resolved[row["case_id"]] = row

    # -- the case queue ---------------------------------------------------------------------------------
    def cases(self, status: str = "open", limit: int = 50) -> list[dict]:
        flagged = self.scored[self.scored["decision"].isin(("review", "block"))]
        out = []
        for ring_id, group in flagged[flagged["ring_id"].notna()].groupby("ring_id"):
            out.append(self._case(str(ring_id), "ring", group))
        for _, row in flagged[flagged["ring_id"].isna()].iterrows():
            out.append(self._case(f"{row['entity_type']}:{row['entity_id']}", row["entity_type"], row.to_frame().T))
        for case in out:
            case["resolution"] = self.resolved.get(case["case_id"], {}).get("verdict")
        if status == "open":
            out = [c for c in out if c["resolution"] is None]
        elif status == "resolved":
            out = [c for c in out if c["resolution"] is not None]
        return sorted(out, key=lambda c: -c["score"])[:limit]

    @staticmethod
    def _case(case_id: str, kind: str, group: pd.DataFrame) -> dict:
        top = group.sort_values("score", ascending=False).iloc[0]
        sellers = group[group["entity_type"] == "seller"]["entity_id"].tolist()
        return {"case_id": case_id, "kind": kind, "typology": top["typology"], "score": float(top["score"]),
                "decision": top["decision"], "members": group["entity_id"].astype(str).tolist(),
                "sellers": [str(s) for s in sellers], "reasons": str(top["reasons"])}

    def resolve(self, case_id: str, verdict: str, note: str = "") -> dict:
        """Record a verdict on a case of the queue, or on any account or seller (``account:ID``, ``seller:ID``)
        the risk team looked at (a customer's report): the resolutions become labels."""
        if verdict not in VERDICTS:
            raise DataError(f"verdict: one of {', '.join(VERDICTS)}")
        kind, _, entity = case_id.partition(":")
        queued = case_id in {c["case_id"] for c in self.cases("all", 10**9)}
        if not queued and not (kind in ("account", "seller", "order") and entity):
            raise DataError(f"case {case_id!r}: not in the queue, and not account:ID, seller:ID or order:ID")
        row = {"case_id": case_id, "verdict": verdict, "note": note,
               "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        with self._lock:
            self.resolved[case_id] = row
            if self.resolutions_path is not None:
                path = Path(self.resolutions_path)
                new = not path.exists()
                with path.open("a", encoding="utf-8", newline="") as fh:
                    writer = csv.DictWriter(fh, fieldnames=list(row))
                    if new:
                        writer.writeheader()
                    writer.writerow(row)
        return row

    def ring_graph(self, ring_id: str) -> dict:
        """The ring's accounts and what links them: {"ring_id", "accounts": [...], "links": [{account, kind, value}]}."""
        number = ring_id.removeprefix("ring-")
        if not ring_id.startswith("ring-") or not number.isdigit() or len(number) > 9:
            raise DataError(f"{ring_id!r}: not a ring id (ring-N)")
        members, links = self.graph.ring_members(int(number))
        if not members:
            raise DataError(f"{ring_id!r}: no such ring")
        return {"ring_id": ring_id, "accounts": members,
                "links": links.rename(columns={"account_id": "account"}).to_dict("records")}

    def account_ring(self, account_id: str) -> dict:
        """The ring an account belongs to (an account in no ring: itself alone, no links)."""
        ring = int(self.graph.ring_of([account_id])[0])
        if ring < 0:
            return {"ring_id": None, "accounts": [account_id], "links": []}
        return self.ring_graph(f"ring-{ring}")
