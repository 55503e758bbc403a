"""Which messages of a new NLU set have a near-duplicate in the project's other NLU files.

Prints the line numbers of the new file's messages whose character similarity to some message of
``data/nlu/`` or ``tests/nlu/`` is 0.8 or more, without printing the other message: whoever writes an
untouched set learns only which of their own lines to rewrite, never the training data.

    python scripts/near_duplicates.py tests/nlu/test_wild.yml
"""

from __future__ import annotations

import re
import sys
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"^\s+- (?!intent:|regex:|lookup:|synonym:)(.+)$")
MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")
SIMILAR = 0.8


def messages(path: Path) -> list[tuple[int, str]]:
    """(line number, text without entity markup) of every example line of a Rasa NLU file."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := EXAMPLE.match(line):
            text = MARKUP.sub(lambda m: m.group(1) or m.group(2), match.group(1)).strip()
            found.append((number, text))
    return found


def near(text: str, others: list[str]) -> bool:
    for other in others:
        matcher = SequenceMatcher(None, text, other, autojunk=False)
        if matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR:
            return True
    return False


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    new = Path(argv[1]).resolve()
    others = [
        text
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted((ROOT / "tests" / "nlu").glob("*.yml"))
        if path.resolve() != new
        for _, text in messages(path)
    ]
    mine = messages(new)
    flagged = [number for number, text in mine if near(text, others)]
    for number in flagged:
        print(f"line {number}: near-duplicate of a message elsewhere in the project; rewrite it")
    print(f"{len(flagged)} of {len(mine)} messages have a near-duplicate")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
