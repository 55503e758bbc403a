"""Writes one benchmark's section of docs/benchmarks.md, between its own markers (standard library only)."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, body: str) -> None:
    """Replace the section marked ``<!-- NAME benchmarks -->`` (or append it)."""
    mark = f"<!-- {name} benchmarks -->"
    section = f"{mark}\n{body.rstrip()}\n{mark}\n"
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if mark in current:
        head, _, rest = current.partition(mark)
        _, _, tail = rest.partition(mark)
        current = head + section + tail.lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(current, encoding="utf-8")
