"""One error shape for every endpoint (OpenAI's), and the handlers that map errors to it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.core.errors import Busy, IndexMismatch, IndexNotFound, NotFound, QAError

log = logging.getLogger("qa.serve")


class APIError(Exception):
    """An error with an HTTP status, rendered in the one error shape every endpoint uses."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.headers = headers or {}


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    503: "service_unavailable",
}


def error_body(status: int, message: str, type_: str | None = None) -> dict[str, Any]:
    """``{"error": {"message", "type", "code"}}``: the OpenAI error shape, used everywhere."""
    return {
        "error": {
            "message": message,
            "type": type_ or _TYPES.get(status, "server_error" if status >= 500 else "error"),
            "code": status,
        }
    }


def error_response(
    status: int, message: str, type_: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, type_), status_code=status, headers=headers)


def qa_error_status(e: QAError) -> int:
    """BadInput → 400, NotFound → 404, a missing, mismatched or busy index → 503."""
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, IndexNotFound | IndexMismatch | Busy):
        return 503
    return 400


def validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        if tuple(err.get("loc", ())) == ("body",):
            return "the request body must be a JSON object (Content-Type: application/json)"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at ``path`` (Starlette's 405 names one route's)."""
    methods: set[str] = set()
    for route in route_table(app):
        if route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


def route_table(app: FastAPI) -> list[Any]:
    """The app's routes with a path and methods, those of included routers too."""
    out = []
    pending = list(app.router.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)  # a router included in the app
        if inner is not None:
            pending.extend(inner.routes)
        elif hasattr(route, "path_regex"):
            out.append(route)
    return out


async def _api_error(request: Request, e: APIError) -> JSONResponse:
    return error_response(e.status, e.message, e.type, e.headers)


async def _qa_error(request: Request, e: QAError) -> JSONResponse:
    status = qa_error_status(e)
    if isinstance(e, Busy):  # another process is writing the index: worth a retry
        request.state.rejected = "index_busy"
        return error_response(status, str(e), "index_busy", {"Retry-After": "5"})
    return error_response(status, str(e), None if status != 503 else "index_unavailable")


EMPTY_QUESTION = 'the question is empty: ask something, e.g. "Who visited Moscow?"'
_BLANK = {"string_too_short", "string_pattern_mismatch"}


async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
    errors = list(e.errors())
    if errors and all(
        err.get("type") in _BLANK and tuple(err.get("loc", ()))[-1:] == ("question",)
        for err in errors
    ):  # the schema's "not blank", said as the engine says it
        return error_response(400, EMPTY_QUESTION)
    for err in errors:
        if err.get("type") == "string_unicode":  # a lone surrogate: a broken \u escape
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            return error_response(
                400,
                f"{where} contains characters that are not valid text (a lone surrogate or a "
                "byte that is not UTF-8); send it as UTF-8 text",
            )
    malformed = any(
        err.get("type") == "json_invalid" or tuple(err.get("loc", ())) == ("body",)
        for err in errors
    )
    return error_response(400 if malformed else 422, validation_message(errors))


async def _http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
    message = str(e.detail)
    headers = dict(getattr(e, "headers", None) or {})
    if e.status_code == 400 and message == "There was an error parsing the body":
        message = (
            "the request body could not be read: send UTF-8 encoded JSON with "
            "Content-Type: application/json"
        )
    if e.status_code == 404:
        message = f"no route {request.url.path!r}; see /docs for the API"
    if e.status_code == 405:
        allow = allowed_methods(request.app, request.url.path)
        headers["Allow"] = ", ".join(allow)
        message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allow)}"
    return error_response(e.status_code, message, headers=headers or None)


async def _unexpected(request: Request, e: Exception) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path)
    return error_response(500, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Register the handlers: every error leaves in the one shape."""
    app.add_exception_handler(APIError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(QAError, _qa_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
