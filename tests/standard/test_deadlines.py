"""The response window (10.1.4)."""

from datetime import datetime, timedelta, timezone

import pytest

from heating_standard.deadlines import response_due_at


def test_response_is_due_thirty_minutes_after_acceptance() -> None:
    accepted = datetime(2026, 12, 31, 23, 50, tzinfo=timezone.utc)
    assert response_due_at(accepted) == accepted + timedelta(minutes=30)


def test_naive_acceptance_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        response_due_at(datetime(2026, 12, 1, 8, 0))
