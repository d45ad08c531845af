"""The edge of every request: request id, metrics, the bearer key, body size and time limits,
and one log line per request."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.serve.errors import error_response
from qa.serve.metrics import Metrics, method_label

log = logging.getLogger("qa.serve.request")
DOCS_STATIC = "/docs-static"  # Swagger UI's files, served from the fastapi-offline package
OPEN_PATHS = frozenset({"/healthz", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
PROBE_PATHS = frozenset({"/readyz", "/metrics"})
# The web page and its files load without the key (its API calls send it): GET and HEAD only.
PAGE_PATHS = frozenset({"/"})
PAGE_PREFIXES = ("/view/", "/static/")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class EdgeLimits:
    api_key: str | None
    max_body_bytes: int
    body_timeout_s: float
    probes_public: bool  # /readyz and /metrics without the key (QA_METRICS_PUBLIC)


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


class EdgeMiddleware:
    """Around every HTTP request, in this order: id, key, body limits, the app, then
    metrics and the log line (whatever happened)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, limits: EdgeLimits) -> None:
        self.app = app
        self.metrics = metrics
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = self._request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self._handle(scope, receive, send_with_id)
        except _Refused as e:
            state["rejected"] = e.reason
            headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else {}
            if e.status == 408:
                headers["Connection"] = "close"  # the rest of the body is not worth waiting for
            await error_response(e.status, e.message, headers=headers)(scope, receive, send_with_id)
        finally:
            self._account(scope, state, status, time.perf_counter() - start, rid)

    def _account(
        self, scope: Scope, state: dict[str, Any], status: int, seconds: float, rid: str
    ) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = method_label(scope.get("method", ""))
        self.metrics.requests.labels(route, method, str(status)).inc()
        self.metrics.latency.labels(route, method).observe(seconds)
        if state.get("rejected"):
            self.metrics.rejected.labels(state["rejected"]).inc()
        fields: dict[str, Any] = {
            "request_id": rid,
            "method": method,
            "path": route,
            "status": status,
            "ms": round(seconds * 1000, 1),
        }
        if state.get("timings_ms"):
            fields["timings_ms"] = state["timings_ms"]
        if state.get("rejected"):
            fields["rejected"] = state["rejected"]
        level = logging.WARNING if status >= 500 and not state.get("rejected") else logging.INFO
        log.log(level, "%s %s %d", method, route, status, extra=fields)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1").strip()
                if _REQUEST_ID.match(given):
                    return given
        return uuid.uuid4().hex[:16]

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._authorised(scope):
            raise _Refused(
                401,
                "unauthorized",
                "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
            )
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the disconnect, when it comes

        await self.app(scope, replay, send)

    def _authorised(self, scope: Scope) -> bool:
        key = self.limits.api_key
        path = scope.get("path", "")
        if (
            not key
            or path in OPEN_PATHS
            or path.startswith(DOCS_STATIC + "/")
            or _is_page(scope, path)
            or scope.get("method") == "OPTIONS"
            or (self.limits.probes_public and path in PROBE_PATHS)
        ):
            return True
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    return secrets.compare_digest(token.strip().encode(), key.encode())
        return False

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, within the size limit and the time limit."""
        limit = self.limits.max_body_bytes
        too_large = _Refused(
            413, "body_too_large", f"the request body is larger than the limit of {limit} bytes"
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.strip().isdigit() and int(value) > limit:
                raise too_large
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.limits.body_timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise _Refused(
                    408,
                    "body_timeout",
                    f"the request body did not arrive within {self.limits.body_timeout_s:g} s",
                ) from None
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _is_page(scope: Scope, path: str) -> bool:
    """A GET (or HEAD) of the web page, a document view or their static files."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    return path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)
