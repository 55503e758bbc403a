"""How long a loop waits before its next try. Every retry loop of the product uses one of these two:

- ``doubling``: ``base`` · 2^n, at most ``cap``: the WeChat channel's outbox (the channel's retry delay,
  at most an hour), the backend's notifications (30 s, at most an hour), the action server's calls to the
  backend (API_BACKOFF_SECONDS, a few tries), and ``make run``'s restart of a crashed service (1 s, at
  most a minute);
- ``stepped``: a stated table whose last step repeats: the action server's spool of orders kept while
  the backend is down (1, 2, 5, 10, 15 minutes) and the channel's held turns. A table where the waits
  must be read by people (a resident's order is tried again after these minutes).
"""

from __future__ import annotations

from collections.abc import Sequence

# 2^30 already dwarfs any cap in use; the exponent stops there so that a huge count cannot overflow.
_MOST_DOUBLINGS = 30


def doubling(tries: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``tries`` failed tries beyond the first: ``base``, 2·base, 4·base … at most ``cap``."""
    return min(cap, base * 2.0 ** min(max(tries, 0), _MOST_DOUBLINGS))


def stepped(delays: Sequence[float], tries: int) -> float:
    """Seconds to wait once ``tries`` tries were made, by a table whose last wait repeats."""
    return delays[min(max(tries, 0), len(delays) - 1)]
