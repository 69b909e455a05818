"""RFC 9457 problem+json responses; the one place errors become HTTP status codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from core_alerts.domain import errors as e

PROBLEM = "application/problem+json"


class UnsupportedMediaType(e.CoreAlertsError):
    """The body is not JSON, or uses an encoding other than gzip."""

    code = "unsupported_media_type"


_STATUS: list[tuple[type[e.CoreAlertsError], int]] = [
    (UnsupportedMediaType, 415),
    (e.LimitExceeded, 413),
    (e.MalformedInput, 400),
    (e.ValidationFailed, 422),
    (e.NotFound, 404),
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.RateLimited, 429),
    (e.InvalidTransition, 409),
    (e.ConflictError, 409),
    (e.StorageUnavailable, 503),
    (e.Overloaded, 503),
]


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str = "error",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {"type": f"urn:core-alerts:problem:{code}", "title": title, "status": status}
    body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(msgspec.json.encode(body), status, headers=headers, media_type=PROBLEM)


def status_for(exc: e.CoreAlertsError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def for_alertmanager(request: Request) -> bool:
    """Alertmanager API v2 paths answer errors as Alertmanager does: a JSON string with
    `application/json`, which its clients (amtool, Grafana) can read."""
    return request.url.path.startswith("/api/v2/")


def alertmanager_error(status: int, detail: str, headers: Mapping[str, str] | None) -> Response:
    return Response(
        msgspec.json.encode(detail), status, headers=headers, media_type="application/json"
    )


def error_response(
    exc: e.CoreAlertsError, *, status: int | None = None, alertmanager: bool = False
) -> Response:
    code = status or status_for(exc)
    headers: dict[str, str] | None = None
    if isinstance(exc, e.Overloaded):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
    elif isinstance(exc, e.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="core-alerts", Basic realm="core-alerts"'}
    if alertmanager:
        return alertmanager_error(code, exc.message, headers)
    fields: dict[str, Any] = {"field": exc.field}
    if isinstance(exc, e.ValidationFailed):
        fields["index"] = exc.index
    return problem(
        code, exc.__class__.__name__, exc.message, code=exc.code, headers=headers, **fields
    )


def count_rejection(request: Request, exc: e.CoreAlertsError) -> None:
    """Count refused writes by reason (validation_failed, limit_exceeded, overloaded ...)."""
    if request.method == "POST":
        request.app.state.orchestrator.metrics.rejected.labels(exc.code).inc()


CLIENT_CLOSED = 499
"""The status recorded (audit trail, logs) for a request whose client left before it was
read in full; nobody receives it (nginx uses the same number)."""


def install(app: FastAPI) -> None:
    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=CLIENT_CLOSED)

    @app.exception_handler(e.CoreAlertsError)
    async def _domain(request: Request, exc: e.CoreAlertsError) -> Response:
        count_rejection(request, exc)
        return error_response(exc, alertmanager=for_alertmanager(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in errors
        )
        # loc is ("query", "status", 0) or ("body", "actor"): the field is what follows.
        loc = [str(p) for p in errors[0]["loc"][1:2]] if errors else []
        field = loc[0] if loc else None
        if for_alertmanager(request):
            return alertmanager_error(400, details, None)  # Alertmanager: 400 for bad input
        return problem(422, "ValidationFailed", details, code="validation_failed", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if for_alertmanager(request):
            return alertmanager_error(exc.status_code, str(exc.detail), exc.headers)
        return problem(exc.status_code, "HTTPError", str(exc.detail), headers=exc.headers)
