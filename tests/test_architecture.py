"""The layering, read from the imports of every product module with `ast` (nothing is imported).

STYLE.md: views → services → runner/selectors → models; offboarding → connections; nothing in
connections knows about requests; the sandbox shares no code with the clients. Imports inside
functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("offboarding", "portal", "connections")
MAX_LINES = 400

# Modules that may call the services: the layer above them (and the services themselves).
SERVICE_CALLERS = (
    "offboarding.services",
    "offboarding.views",
    "offboarding.api",
    "offboarding.admin",
    "offboarding.tasks",
    "offboarding.management",
    "offboarding.urls",
    "portal",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported, absolute
    line: int

    def __str__(self) -> str:
        return f"{self.module} imports {self.target} (line {self.line})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def product_modules() -> dict[str, Path]:
    """Every module of the product, by dotted name (migrations aside)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(module: str, path: Path, node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, path, node)
        for alias in node.names:
            # `from offboarding import services` imports the module offboarding.services.
            sub = f"{base}.{alias.name}"
            yield sub if sub in product_modules() else base


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    path = product_modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return tuple(
        Import(module, target, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for target in _targets(module, path, node)
    )


def imports_from(prefix: str) -> list[Import]:
    return [i for m in product_modules() if _within(m, prefix) for i in imports_of(m)]


def _offending(imports: list[Import], *forbidden: str) -> list[str]:
    return [str(i) for i in imports if any(_within(i.target, f) for f in forbidden)]


def test_the_modules_are_found():
    modules = product_modules()
    assert {"offboarding.runner", "offboarding.services", "connections.sandbox"} <= set(modules)
    assert any(i.target == "offboarding.models" for i in imports_of("offboarding.selectors"))


def test_connections_never_imports_offboarding_or_portal():
    bad = _offending(imports_from("connections"), "offboarding", "portal")
    assert not bad, "connections must know nothing of requests or the portal:\n" + "\n".join(bad)


def test_the_sandbox_shares_no_code_with_the_clients():
    bad = _offending(
        imports_from("connections.sandbox"),
        "connections.clients",
        "connections.providers",
        "offboarding",
        "portal",
    )
    assert not bad, "the sandbox must stand alone:\n" + "\n".join(bad)


def test_the_runner_never_imports_the_services():
    bad = _offending(imports_from("offboarding.runner"), "offboarding.services")
    assert not bad, "the runner sits below the services:\n" + "\n".join(bad)


def test_nothing_below_the_services_imports_them():
    bad = [
        str(i)
        for m in product_modules()
        if _within(m, "offboarding") and not any(_within(m, c) for c in SERVICE_CALLERS)
        for i in imports_of(m)
        if _within(i.target, "offboarding.services")
    ]
    assert not bad, "only views, tasks, commands and the admin call services:\n" + "\n".join(bad)


def test_views_write_no_audit_events_and_call_no_connector():
    bad = _offending(
        imports_from("offboarding.views"),
        "offboarding.audit",
        "offboarding.runner",
        "offboarding.progress",
        "connections",
    )
    assert not bad, "views fetch, check and call services:\n" + "\n".join(bad)


def _cycle_from(start: str, graph: dict[str, list[Import]]) -> list[Import] | None:
    """A path of imports from `start` back to itself, or None."""
    stack: list[tuple[str, list[Import]]] = [(start, [])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for edge in graph.get(node, []):
            if edge.target == start:
                return [*path, edge]
            if edge.target not in seen:
                seen.add(edge.target)
                stack.append((edge.target, [*path, edge]))
    return None


def test_no_import_cycles_inside_offboarding():
    inside = [m for m in product_modules() if _within(m, "offboarding")]
    graph = {
        m: [i for i in imports_of(m) if _within(i.target, "offboarding") and i.target != m]
        for m in inside
    }
    cycles = {}
    for module in inside:
        cycle = _cycle_from(module, graph)
        if cycle and frozenset(i.module for i in cycle) not in cycles:
            cycles[frozenset(i.module for i in cycle)] = " → ".join(map(str, cycle))
    assert not cycles, "import cycles:\n" + "\n".join(cycles.values())


def test_no_product_module_is_over_400_lines():
    long = {
        name: count
        for name, path in product_modules().items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (over {MAX_LINES} lines): " + ", ".join(
        f"{name} ({count} lines)" for name, count in sorted(long.items())
    )
