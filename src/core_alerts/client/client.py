"""AlertsClient: an async httpx wrapper for the REST API, with typed results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from core_alerts import domain
from core_alerts.client.models import Alert, AlertDetail, AlertPage, ApiError, IngestResponse

DEFAULT_URL = "http://127.0.0.1:8080"
_RETRY_STATUSES = frozenset({429, 503})
_MAX_RETRY_WAIT = 30.0  # never sleep longer on a server's say-so
T = TypeVar("T")

SendItem = Mapping[str, Any] | domain.Alert
Many = str | Sequence[str] | None
"""One value or several; AlertStatus and AlertSeverity are str, so both fit."""


def rfc3339(value: datetime) -> str:
    """RFC 3339 text; a naive datetime is local time, as datetime.astimezone() reads it."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.isoformat().replace("+00:00", "Z")


def alert_body(alert: domain.Alert) -> dict[str, Any]:
    """A domain Alert as the native JSON body; its metadata's tenant is not sent (see tenant=)."""
    body: dict[str, Any] = {
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
    }
    # The native format knows firing and resolved; ack and suppress are server-side states.
    if alert.status is domain.AlertStatus.RESOLVED:
        body["status"] = "resolved"
    if alert.starts_at is not None:
        body["starts_at"] = rfc3339(alert.starts_at)
    if alert.ends_at is not None:
        body["ends_at"] = rfc3339(alert.ends_at)
    if alert.metadata.dedup_key:
        body["dedup_key"] = alert.metadata.dedup_key
    if alert.generator_url:
        body["generator_url"] = alert.generator_url
    return body


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait: Retry-After as seconds or an HTTP date; 1 s when absent."""
    value = response.headers.get("retry-after", "").strip()
    try:
        wait = float(value)
    except ValueError:
        try:
            wait = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            wait = 1.0
    return min(max(wait, 0.0), _MAX_RETRY_WAIT)


def _many(values: Many) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [str(values)]
    return [str(v) for v in values]


def _query(
    status: Many, severity: Many, filters: Many, since: datetime | None, until: datetime | None
) -> list[tuple[str, str]]:
    params = [("status", v) for v in _many(status)]
    params.extend(("severity", v) for v in _many(severity))
    params.extend(("filter", v) for v in _many(filters))
    params.extend((name, rfc3339(b)) for name, b in (("since", since), ("until", until)) if b)
    return params


def _alert_path(alert_id: str, suffix: str = "") -> str:
    if not alert_id:
        raise ValueError("alert_id must not be empty")
    return f"/api/v1/alerts/{quote(alert_id, safe='')}{suffix}"


class AlertsClient:
    """Async client of one core-alerts service, for one tenant. Use `async with`, or aclose()."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        tenant: str | None = None,
        token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 2,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "core-alerts-client"}
        if tenant:
            headers["X-Tenant-ID"] = tenant
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self, method: str, path: str, *, params: Any = None, body: Any = None, retry: bool = False
    ) -> httpx.Response:
        content = None if body is None else msgspec.json.encode(body)
        headers = None if content is None else {"Content-Type": "application/json"}
        attempt = 0
        while True:
            response = await self._http.request(
                method, path, params=params, content=content, headers=headers
            )
            if response.is_success:
                return response
            # Only reads are retried: a repeated POST could apply twice.
            if retry and response.status_code in _RETRY_STATUSES and attempt < self.retries:
                attempt += 1
                await asyncio.sleep(_retry_after(response))
                continue
            raise ApiError.from_response(response)

    async def _get(self, path: str, into: type[T], params: Any = None, retry: bool = True) -> T:
        response = await self._request("GET", path, params=params, retry=retry)
        return msgspec.json.decode(response.content, type=into)

    async def send(self, alerts: SendItem | Sequence[SendItem]) -> IngestResponse:
        """Send one alert or a list: native-format dicts or domain Alerts; all or nothing."""
        items = [alerts] if isinstance(alerts, Mapping | domain.Alert) else alerts
        body = [alert_body(a) if isinstance(a, domain.Alert) else dict(a) for a in items]
        response = await self._request("POST", "/api/v1/alerts", body=body)
        return msgspec.json.decode(response.content, type=IngestResponse)

    async def send_alertmanager(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Post alerts as Prometheus does (Alertmanager API v2 postableAlerts)."""
        await self._request("POST", "/api/v2/alerts", body=[dict(a) for a in alerts])

    async def list(
        self,
        status: Many = None,
        severity: Many = None,
        filters: Many = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AlertPage:
        """One page of alerts, newest first. `filters` are label matchers like `team="db"`."""
        params = _query(status, severity, filters, since, until)
        params.append(("limit", str(limit)))
        if cursor:
            params.append(("cursor", cursor))
        return await self._get("/api/v1/alerts", AlertPage, params)

    async def iterate(
        self,
        status: Many = None,
        severity: Many = None,
        filters: Many = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AsyncIterator[Alert]:
        """Every matching alert, newest first, fetching pages of `limit` as needed."""
        while True:
            page = await self.list(status, severity, filters, since, until, limit, cursor)
            for alert in page.items:
                yield alert
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, alert_id: str) -> AlertDetail:
        """One alert with its history."""
        return await self._get(_alert_path(alert_id), AlertDetail)

    async def explain(self, alert_id: str) -> dict[str, Any]:
        """The alert's decision record: fingerprint, merges, transitions, stage decisions."""
        return await self._get(_alert_path(alert_id, "/explain"), dict[str, Any])

    async def _act(self, action: str, alert_id: str, actor: str | None, comment: str) -> Alert:
        body: dict[str, str] = {"comment": comment}
        if actor:
            body["actor"] = actor
        response = await self._request("POST", _alert_path(alert_id, f"/{action}"), body=body)
        return msgspec.json.decode(response.content, type=Alert)

    async def ack(self, alert_id: str, *, actor: str | None = None, comment: str = "") -> Alert:
        """Acknowledge a firing or suppressed alert; ApiError 409 otherwise."""
        return await self._act("ack", alert_id, actor, comment)

    async def unack(self, alert_id: str, *, actor: str | None = None, comment: str = "") -> Alert:
        """Withdraw an acknowledgement; the alert fires again. ApiError 409 if not acknowledged."""
        return await self._act("unack", alert_id, actor, comment)

    async def resolve(self, alert_id: str, *, actor: str | None = None, comment: str = "") -> Alert:
        """Resolve an active alert by hand; ApiError 409 if it is already resolved."""
        return await self._act("resolve", alert_id, actor, comment)

    async def notifications(
        self, *, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """A page of notifications (`state="dead"`: the dead letters), oldest first:
        `{"entries": [...], "next_after": cursor or None}`."""
        params: dict[str, Any] = {"limit": limit}
        if state:
            params["state"] = state
        if after:
            params["after"] = after
        return await self._get("/api/v1/notifications", dict[str, Any], params=params)

    async def replay(self, ids: Sequence[str] | None = None) -> int:
        """Send dead letters again: these ids, or every one when `ids` is None."""
        body: dict[str, Any] = {"all": True} if ids is None else {"ids": list(ids)}
        response = await self._request("POST", "/api/v1/notifications/replay", body=body)
        return int(msgspec.json.decode(response.content)["replayed"])

    async def get_config(self) -> dict[str, Any]:
        """The routing config in force: `{"config": yaml text, "source", "version"}`."""
        return await self._get("/api/v1/config", dict[str, Any])

    async def put_config(self, text: str) -> dict[str, Any]:
        """Replace the tenant's alertmanager.yml; ApiError 400 names the line at fault."""
        response = await self._request("PUT", "/api/v1/config", body={"config": text})
        return dict(msgspec.json.decode(response.content))

    async def routing_test(self, labels: Mapping[str, str]) -> dict[str, Any]:
        """Which receivers and groups these labels reach."""
        response = await self._request(
            "POST", "/api/v1/routing/test", body={"labels": dict(labels)}
        )
        return dict(msgspec.json.decode(response.content))

    async def health(self) -> dict[str, Any]:
        """Liveness: `{"status": "ok"}` while the process serves requests."""
        return await self._get("/healthz", dict[str, Any])

    async def ready(self) -> dict[str, Any]:
        """Readiness, answered now (no retry): ApiError 503 while the database is unreachable."""
        return await self._get("/readyz", dict[str, Any], retry=False)
