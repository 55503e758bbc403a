"""Durations in plain Chinese."""

from datetime import timedelta

import pytest

from bot.wording import duration_zh


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(minutes=30), "30分钟"),
        (timedelta(minutes=90), "1小时30分钟"),
        (timedelta(hours=1), "1小时"),
        (timedelta(hours=24), "24小时"),
        (timedelta(seconds=0), "0分钟"),
    ],
)
def test_duration_zh(span: timedelta, words: str) -> None:
    assert duration_zh(span) == words
