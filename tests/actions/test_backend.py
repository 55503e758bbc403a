"""The typed backend client's parsing of the backend's answers."""

from datetime import timezone

import pytest

from actions.backend import WorkOrder, parse_timestamp


def test_timestamps_with_z_suffix_are_read_as_utc() -> None:
    assert parse_timestamp("2026-11-27T21:04:30.795782Z").tzinfo == timezone.utc


def test_timestamp_without_timezone_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("2026-11-27T21:04:30")


def test_work_order_without_response_deadline() -> None:
    order = WorkOrder.from_json(
        {
            "id": 7,
            "number": "GD20261127000007",
            "kind": "business",
            "category": "other",
            "status": "accepted",
            "urgent": False,
            "accepted_at": "2026-11-27T01:00:00Z",
            "response_due_at": None,
        }
    )
    assert order.response_due_at is None and order.number == "GD20261127000007"
