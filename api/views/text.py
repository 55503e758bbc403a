"""What no text staff or a platform's file give the backend may carry: control characters.

They are invisible on screen, and the xlsx format cannot hold most of them: one in a hotline order's
platform number made the whole monthly report fail (review N5). A line of text (a number, a name, an
address) may hold none; a free text (a description) keeps its tabs and line breaks.
"""

from __future__ import annotations

import re

# C0 controls and DEL.
_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
# The same but tab, line feed and carriage return.
_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_at(text: str, free_text: bool = False) -> int | None:
    """The position (from 1) of the first control character in ``text``, or None when it has none."""
    found = (_IN_FREE_TEXT if free_text else _IN_LINE).search(text)
    return found.start() + 1 if found else None


def shown_without_controls(text: str) -> str:
    """``text`` with every control character but tab and line breaks shown as "�", so staff see where."""
    return _IN_FREE_TEXT.sub("\ufffd", text)
