"""The shared packages stay pure, so that both environments (and scripts/stack/) can import them.

``heating_standard``: only the standard library, the package itself, two data libraries (the State
Council's holidays, Chinese numerals) and a YAML parser (the operator file's text is passed in).
``policies``: the standard library and itself only. Neither does I/O, needs a framework or reads the clock.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "heating_standard": {"chinese_calendar", "cn2an", "yaml", "heating_standard"},
    "policies": {"policies"},
}
# Standard modules that read files, the network, the clock or the environment.
FORBIDDEN_STDLIB = {"os", "io", "socket", "subprocess", "pathlib", "time", "random", "logging", "urllib", "http"}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_the_package_imports_nothing_impure(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files, package
    for path in files:
        for name in imported(path) - {"__future__"}:
            if name in ALLOWED[package]:
                continue
            assert name in sys.stdlib_module_names, f"{package}/{path.name} imports {name}"
            assert name not in FORBIDDEN_STDLIB, f"{package}/{path.name} imports {name}, which does I/O"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_nothing_reads_the_clock(package: str) -> None:
    for path in sorted((ROOT / package).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "date.today(", "datetime.utcnow("):
            assert call not in text, f"{package}/{path.name} reads the clock ({call}); the caller passes now"
