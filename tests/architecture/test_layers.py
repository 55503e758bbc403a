"""The architecture as a test (docs/architecture.md): which package may import which, the backend's layers,
and no import cycles, imports inside functions included. Written like tests/standard/test_purity.py: the
source is read, nothing is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("heating_standard", "policies", "fake_wechat", "bot", "actions", "channels", "api", "scripts")

# Each package's allowed first-party imports besides itself. The two shared packages import nothing of
# ours; each environment stacks on them and never imports the other (they talk over HTTP); the scripts
# (benchmarks, the trainer, the launcher) may read either environment's code.
ALLOWED: dict[str, set[str]] = {
    "heating_standard": set(),
    "policies": set(),
    # the stand-in for the WeChat platform: the simulator serves it, the channel's tests call it
    "fake_wechat": {"policies"},
    "bot": {"heating_standard", "policies"},
    "actions": {"bot", "heating_standard", "policies"},
    "channels": {"bot", "heating_standard", "policies"},
    "api": {"heating_standard", "policies", "fake_wechat"},
    "scripts": {"api", "bot", "heating_standard", "policies", "fake_wechat"},
}

# Inside the backend, from the bottom up: a layer imports only the layers listed for it (and itself).
# The composition root (api.main) and the command line (api.cli) may import everything.
# The JSON API and the console stand side by side on the same layers.
WEB = {
    "api.auth",
    "api.deps",
    "api.errors",
    "api.metrics",
    "api.models",
    "api.schemas",
    "api.services",
    "api.settings",
    "api.views",
}
API_LAYERS: dict[str, set[str]] = {
    "api.settings": set(),
    # the backend's log formatter (JSON lines built by heating_standard.privacy)
    "api.logs": set(),
    "api.errors": set(),
    "api.db": {"api.settings"},
    "api.models": {"api.db", "api.settings", "api.views"},
    "api.schemas": {"api.errors", "api.views"},
    "api.views": {"api.errors"},
    "api.operator_config": {"api.settings", "api.errors"},
    "api.services": {"api.db", "api.models", "api.schemas", "api.errors", "api.settings", "api.views"},
    "api.deps": {"api.models", "api.schemas", "api.services", "api.settings"},
    "api.auth": {"api.deps", "api.errors", "api.services"},
    "api.routes": WEB,
    "api.console": WEB,
    "api.simulator": {"api.settings", "api.errors", "api.deps"},
    # the figures, probes and correlation id (docs/metrics.md): read the database, the services' KPIs
    "api.metrics": {"api.db", "api.models", "api.services", "api.settings"},
}
API_ROOTS = {"api.main", "api.cli", "api.body_limit"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def production_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every first-party module ``path`` imports, at any depth of the file (deferred imports too), with the line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            # the scripts import each other (and the launcher's package) with scripts/ on the path
            if name.split(".")[0] not in PACKAGES and f"scripts.{name}" in known:
                name = f"scripts.{name}"
            parts = name.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts:
                yield ".".join(parts), node.lineno


def graph() -> dict[str, set[str]]:
    known = production_modules()
    return {
        module: {target for target, _ in imports_of(path, known) if target != module} for module, path in known.items()
    }


def layer_of(module: str) -> str | None:
    return next((layer for layer in sorted(API_LAYERS, key=len, reverse=True) if module.startswith(layer)), None)


def test_each_package_imports_only_what_its_row_allows() -> None:
    known = production_modules()
    crossings = []
    for module, path in sorted(known.items()):
        package = module.split(".")[0]
        for target, line in imports_of(path, known):
            other = target.split(".")[0]
            if other != package and other not in ALLOWED[package]:
                crossings.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert crossings == []


def test_the_backends_layers_import_only_downwards() -> None:
    known = production_modules()
    upward = []
    for module, path in sorted(known.items()):
        if not module.startswith("api.") or module in API_ROOTS:
            continue
        mine = layer_of(module)
        assert mine is not None, f"{module} belongs to no layer of API_LAYERS"
        for target, line in imports_of(path, known):
            theirs = layer_of(target) if target.startswith("api.") else None
            if theirs is not None and theirs != mine and theirs not in API_LAYERS[mine]:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} ({theirs})")
    assert upward == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    edges = graph()
    cycles = []
    # Tarjan's strongly connected components, iteratively (no recursion limit on a long chain).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == []


def test_the_rules_see_every_package() -> None:
    """A new top-level package must be given its row (and a new backend module its layer)."""
    tops = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests"}
    assert tops <= set(ALLOWED), f"packages without a row: {sorted(tops - set(ALLOWED))}"


def test_the_console_renders_and_the_services_query() -> None:
    """api/console/ builds pages from what services give it; no page runs a query of its own."""
    queries = []
    for path in sorted((ROOT / "api" / "console").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = node.func
            if (isinstance(called, ast.Name) and called.id == "select") or (
                isinstance(called, ast.Attribute) and called.attr in {"execute", "scalars", "scalar"}
            ):
                queries.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert queries == []
