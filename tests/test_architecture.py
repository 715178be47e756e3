"""The layer rules of docs (shared/docs/architecture.md), checked on every import in the source, including
imports inside functions: a capability never imports another capability or a face; a shared module
imports no capability. ``niaga.text`` is the shared text layer every text capability builds on."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "niaga"
CAPABILITIES = {"reviews", "social", "customers", "fraud", "recommend", "vision", "abuse"}
SHARED_TEXT = "text"  # shared layer (normalization, text classifiers) with a CLI of its own
SHARED = {"data", "evaluation", "modeling", "params", "config", "errors", "privacy", "store"}
FACES = {"cli", "main_job", "samples", "serve", "stream"}


def imports(path: Path) -> set[str]:
    """The niaga top-level packages a module imports, e.g. {"text", "modeling"}."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "niaga" and len(parts) > 1:
                found.add(parts[1])
    return found


def modules():
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        yield path, (parts[0].removesuffix(".py") if len(parts) > 1 or parts[0] != "__init__.py" else "")


@pytest.mark.parametrize("path,package", list(modules()), ids=lambda v: str(v).rsplit("src/niaga/", 1)[-1])
def test_layer_rules(path, package):
    used = imports(path) - {package}
    if package in CAPABILITIES:
        assert not used & (CAPABILITIES | FACES), f"capability {package} imports {sorted(used & (CAPABILITIES | FACES))}"
    elif package == SHARED_TEXT:
        assert not used & (CAPABILITIES | FACES), f"the shared text layer imports {sorted(used & (CAPABILITIES | FACES))}"
    elif package in SHARED:
        assert not used & (CAPABILITIES | FACES | {SHARED_TEXT}), f"shared {package} imports {sorted(used)}"
