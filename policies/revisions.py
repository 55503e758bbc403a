"""Whether a database's schema revision is a later release's (docs/deployment.md, "Upgrading").

The product's migrations are numbered: the backend's ``0001``, ``0002`` …, each conversation-side store's
with its letter (``c001``, ``s001``, ``t001``). A process runs on its own revision or on a later one of
the same line (a later release's expand step, run before that release's rolling restart). Anything
else (an older revision, another store's, a name of another shape, an empty one) is not taken for later.
"""

from __future__ import annotations

import re

NUMBERED = re.compile(r"([a-z]*)([0-9]+)")


def is_later(revision: str | None, head: str | None) -> bool:
    """``revision`` follows ``head`` on the same line: same letters, same width, a greater number."""
    if not revision or not head:
        return False
    found, mine = NUMBERED.fullmatch(revision), NUMBERED.fullmatch(head)
    if found is None or mine is None:
        return False
    same_line = found.group(1) == mine.group(1) and len(found.group(2)) == len(mine.group(2))
    return same_line and int(found.group(2)) > int(mine.group(2))
