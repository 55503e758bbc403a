"""The bot's domain as the tests of both environments read it (only PyYAML is imported)."""

from __future__ import annotations

import functools
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "domain.yml"


@functools.cache
def intents() -> frozenset[str]:
    """The intents of domain.yml, which Rasa accepts (an intent written with options counts by its name)."""
    import yaml

    listed = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"]
    return frozenset(str(next(iter(i))) if isinstance(i, dict) else str(i) for i in listed)
