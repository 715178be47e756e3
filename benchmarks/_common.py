"""Helpers the benchmarks share: saving results as JSON and as a section of docs/benchmarks.md."""

from __future__ import annotations

import json
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
DOC_HEADER = """# Benchmarks

Measured by the scripts in `benchmarks/` (`make bench`), on the shared public data, with published figures
beside ours on the same data and split. Each section is rewritten by its script; the JSON behind it is in
`benchmarks/results/`. Machine: 2 CPU cores, no GPU, unless a section says otherwise.
"""


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"


def save(name: str, payload: dict, markdown: str) -> None:
    """Write results/<name>.json and replace the section <name> of docs/benchmarks.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else DOC_HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n{markdown.strip()}\n\n_Measured {payload['measured']} on {payload['machine']}._\n{end}"
    if start in doc:
        doc = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: section, doc, flags=re.S)
    else:
        doc = doc.rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(doc, encoding="utf-8")
    print(markdown)
