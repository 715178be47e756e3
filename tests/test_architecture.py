"""The layer rules of docs (shared/docs/architecture.md), checked on every import in the source, including
imports inside functions: a capability never imports another capability or a face; a shared module
imports no capability. ``niaga.text`` is the shared text layer every text capability builds on."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "niaga"
CAPABILITIES = {"reviews", "social", "customers", "fraud", "recommend", "vision", "analytics", "abuse"}
SHARED_TEXT = "text"  # shared layer (normalization, text classifiers) with a CLI of its own
SHARED = {"data", "evaluation", "modeling", "params", "cli_options", "config", "errors", "privacy", "store"}
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


ROUTERS = sorted((SRC / "serve" / "routers").glob("*.py")) + [SRC / "serve" / "dashboard.py"]
SQL = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+TABLE|WITH)\b.*\b(FROM|VALUES|SET|AS)\b",
                 re.IGNORECASE | re.DOTALL)


def strings(tree: ast.AST) -> list[str]:
    """Every string literal, f-strings' constant parts included."""
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: p.name)
def test_routers_only_translate_http(path):
    """A router (and the dashboard) holds no SQL and starts no thread: queries are named functions of the store
    or a capability, background work (the decision writer, the replay) lives in the capability, its state on
    the app's state."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sql = [s for s in strings(tree) if SQL.search(s)]
    assert not sql, f"SQL in a router: {sql[0][:80]!r}"
    used = imports_of_modules(tree)
    assert not used & {"threading", "multiprocessing", "concurrent"}, f"a router starts threads: {sorted(used)}"


def imports_of_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found
