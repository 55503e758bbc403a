"""No function of the product's own packages grows past what a reader holds at once (issue #26's measure):
the place every new feature lands is split, not stretched. Migrations and benchmark drivers are left out."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "actions", "bot", "channels", "heating_standard", "policies", "fake_wechat")
MOST_LINES = 60


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MOST_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == [], "split these: " + "; ".join(long)
