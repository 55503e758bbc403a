"""What the repository's examples may hold: made-up phone numbers only. Training data, tests, docs and
samples once carried the standard's drafting office's real number (its preface lists the office's two
lines); a resident's number in an example is always invented."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Not the project's files: environments, models, run-time data, caches.
SKIPPED = {".git", ".venv", "models", "var", "results", ".rasa", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
TEXT_SUFFIXES = {".py", ".yml", ".yaml", ".md", ".txt", ".html", ".csv", ".json", ".xml", ".toml", ".ini", ".js", ".sh"}
# The drafting office's two local numbers (the standard's preface), as hashes of their seven digits, so that
# this test does not carry them either.
OFFICE_NUMBERS = {
    "3b4916d9ffb42d27b5e9513214e921678cc64879410c43ae05178f0bfdf9efa3",
    "5e98144fc216b106e31337645947c028654d569bcfd396c9c3c93f2a148abb42",
}
DIGITS = re.compile(rb"\d{7,}")


def project_files() -> Iterator[Path]:
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if path.is_file() and path.suffix in TEXT_SUFFIXES and not SKIPPED & set(parts) and "__pycache__" not in parts:
            yield path


def office_number_in(data: bytes) -> bool:
    """Whether any seven digits in a row are one of the office's numbers, also inside a longer run (the area
    code and the number written without a dash)."""
    for run in DIGITS.findall(data):
        for start in range(len(run) - 6):
            if hashlib.sha256(run[start : start + 7]).hexdigest() in OFFICE_NUMBERS:
                return True
    return False


def test_no_file_carries_the_drafting_offices_real_numbers() -> None:
    carrying = [str(path.relative_to(ROOT)) for path in project_files() if office_number_in(path.read_bytes())]
    assert carrying == []
