"""Authentication of machine clients (the action server, scripts) by a bearer token."""

from __future__ import annotations

import hmac

from fastapi import Request

from api.errors import NotAuthenticated


def require_machine_client(request: Request) -> None:
    """Accept only ``Authorization: Bearer $API_TOKEN``, compared in constant time."""
    expected = request.app.state.settings.api_token.get_secret_value()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise NotAuthenticated("a valid bearer token is required")
