"""A stand-in for the WeChat platform, which this machine cannot reach: the platform's API as the channel
calls it (``platform``: access tokens, customer-service and template messages within the platform's
published limits, media) and its signed, encrypted pushes (``envelope``). The simulator (``api/simulator``)
serves it over HTTP in development and the end-to-end tests; the channel's tests (Python 3.10) use it
directly. Standard library, ``cryptography`` and ``policies`` only, so both environments import it.
"""
