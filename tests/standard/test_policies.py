"""The shared policies (policies/): the two shapes of waiting, the weak-secret rule, the platform's limits."""

from __future__ import annotations

from policies import backoff, revisions, secrets, wechat


def test_doubling_waits_double_from_the_base_up_to_the_cap() -> None:
    waits = [backoff.doubling(n, base=30, cap=3600) for n in range(9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff.doubling(-3, base=2, cap=60) == 2  # before the first doubling
    assert backoff.doubling(10**9, base=1, cap=60) == 60  # a huge count neither overflows nor passes the cap


def test_a_stepped_table_repeats_its_last_wait() -> None:
    table = (60, 120, 300)
    assert [backoff.stepped(table, n) for n in (-1, 0, 1, 2, 3, 50)] == [60, 60, 120, 300, 300, 300]


def test_a_secret_is_weak_when_short_or_a_shipped_sample() -> None:
    assert secrets.weak_secret("")
    assert secrets.weak_secret("x" * (secrets.MIN_SECRET_LENGTH - 1))
    assert secrets.weak_secret("dev-" + "x" * 40)
    assert not secrets.weak_secret("x" * secrets.MIN_SECRET_LENGTH)


def test_the_platforms_window_is_48_hours_and_five_messages() -> None:
    assert wechat.WINDOW_SECONDS == 48 * 3600 and wechat.QUOTA_MESSAGES == 5
    assert {45015, 45047} == wechat.QUOTA_ERRORS


def test_a_later_revision_is_a_greater_number_on_the_same_line() -> None:
    assert revisions.is_later("0025", "0024") and revisions.is_later("c006", "c005")
    assert not revisions.is_later("0024", "0024") and not revisions.is_later("0023", "0024")
    for other in ("c025", "00025", "0025a", "", None, "garbage", "t006"):
        assert not revisions.is_later(other, "0024"), other
    assert not revisions.is_later("c006", "s001") and not revisions.is_later("0025", None)
