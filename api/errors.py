"""Error types of the backend and the one handler that renders them as JSON.

Every error body is ``{"code": ..., "message": ...}``: ``code`` is stable for programs,
``message`` is a sentence for people. Validation errors also name the field.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a stable ``code``, a sentence, and for 422 the field(s) at fault."""

    code: str
    message: str
    field: str | None = None
    errors: list[FieldError] | None = None


# Documented on every route of /api/v1, so clients (and the schema tests) know each answer's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "the body is not readable JSON"},
    401: {"model": ErrorBody, "description": "no valid bearer token"},
    403: {"model": ErrorBody, "description": "the caller's role may not do this"},
    404: {"model": ErrorBody, "description": "no such object (or not the resident's own)"},
    409: {"model": ErrorBody, "description": "not allowed in the object's present state"},
    422: {"model": ErrorBody, "description": "the request breaks the schema or a rule, naming the field"},
    429: {"model": ErrorBody, "description": "too many failed logins"},
}


class AppError(Exception):
    """A failure with an HTTP status and a stable code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class HttpProblem(AppError):
    """A failure the framework raised (an unreadable body, an unknown path), as the console shows it."""

    def __init__(self, status_code: int, message: str, code: str):
        super().__init__(message, code)
        self.status_code = status_code


class InternalError(AppError):
    """An unexpected failure, as the console shows it (the API answers the same words as JSON)."""

    status_code = 500
    code = "internal_error"


class Unprocessable(AppError):
    """A well-formed request that breaks a rule; names the field, like validation errors."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _field_name(location: tuple[int | str, ...]) -> str:
    # ("body", "address", "room") -> "address.room"; the "body"/"query" prefix says little.
    parts = [str(p) for p in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as JSON; nothing escapes as an HTML page or a bare 500."""

    def page_error(request: Request, exc: AppError) -> Response | None:
        """The console's pages answer errors as HTML (its hook, ``app.state.page_errors``)."""
        render = getattr(request.app.state, "page_errors", None)
        if render is not None and request.url.path.startswith("/console"):
            answer: Response = render(request, exc)
            return answer
        return None

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        page = page_error(request, exc)
        if page is not None:
            return page
        body = {"code": exc.code, "message": exc.message}
        if isinstance(exc, Unprocessable):
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field_name(tuple(first.get("loc", ())))
        page = page_error(request, Unprocessable(field, str(first.get("msg", "invalid value"))))
        if page is not None:
            return page
        details = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "")} for e in errors]
        return JSONResponse(
            {
                "code": "validation_error",
                "message": f"{field}: {first.get('msg', 'invalid value')}",
                "field": field,
                "errors": details,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        page = page_error(request, HttpProblem(exc.status_code, str(exc.detail), code))
        if page is not None:
            return page
        return JSONResponse(
            {"code": code, "message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        page = page_error(request, InternalError("服务器内部错误，请稍后重试"))
        if page is not None:
            return page
        return JSONResponse({"code": "internal_error", "message": "服务器内部错误，请稍后重试"}, status_code=500)
