"""A WeChat stand-in for local use and tests: a fake platform API and a phone that talks to the bot.

Mounted by the backend only when ``SIMULATOR_ENABLED`` is set (``make run`` does so unless
``WECHAT_API_BASE_URL`` points at a platform); never in production.
"""
