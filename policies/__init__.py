"""The policies both Python environments share that are not the standard's: how long a loop waits before
trying again, what counts as a weak secret, and the WeChat platform's published limits.

Standard library only, no I/O, no clock reads (tests/standard/test_purity.py holds it to that, as it
does ``heating_standard``), so the backend (3.11), the conversation side (3.10) and ``scripts/stack/``
(any Python 3) may all import it. Written for Python 3.8+.

- ``backoff``: the two shapes of waiting, doubling and a stated table, and which loop uses which;
- ``secrets``: the production check of a shared secret;
- ``wechat``: the customer-service message window and quota, as the channel obeys them and the
  simulator enforces them.
"""
