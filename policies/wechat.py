"""The WeChat platform's published limits on messages to a follower, as the channel obeys them
(channels/delivery.py, channels/announcements.py), the backend plans by them (announcements) and the
simulator enforces them (fake_wechat/platform.py)."""

from __future__ import annotations

# Customer-service messages may go to a follower within 48 hours of their last message, at most five
# in that window; past it, only a template message reaches them.
WINDOW_SECONDS = 48 * 3600
QUOTA_MESSAGES = 5
# The platform's error codes: outside the window (45015), over the quota (45047).
OUTSIDE_WINDOW_ERROR = 45015
OVER_QUOTA_ERROR = 45047
QUOTA_ERRORS = frozenset({OUTSIDE_WINDOW_ERROR, OVER_QUOTA_ERROR})

# Announcements to every follower go by mass-send (群发): a service account (服务号) has four in each
# natural month; the fifth is refused with 45028 ("has no masssend quota").
MASS_SENDS_PER_MONTH = 4
NO_MASS_QUOTA_ERROR = 45028
