"""The shared package stays pure: only the standard library, the package itself, two data libraries
(the State Council's holidays, Chinese numerals) and a YAML parser (the operator file's text is passed
in); nothing that does I/O or needs a framework, so both environments can import it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "heating_standard"
ALLOWED = {"chinese_calendar", "cn2an", "yaml", "heating_standard"}
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


def test_the_package_imports_nothing_impure() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for name in imported(path) - {"__future__"}:
            if name in ALLOWED:
                continue
            assert name in sys.stdlib_module_names, f"{path.name} imports {name}"
            assert name not in FORBIDDEN_STDLIB, f"{path.name} imports {name}, which does I/O"


def test_nothing_reads_the_clock() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "date.today(", "datetime.utcnow("):
            assert call not in text, f"{path.name} reads the clock ({call}); the caller passes now"
