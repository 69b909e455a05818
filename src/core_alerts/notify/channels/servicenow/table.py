"""The three Table API calls the channel makes: find the open record, create, update."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from core_alerts.domain.errors import MalformedInput
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.notify.channels.http import send_http
from core_alerts.notify.channels.httpconfig import basic_authorization
from core_alerts.notify.channels.servicenow.config import ServiceNowConfig

_SYS_ID = re.compile(r"[0-9a-f]{32}")


class TableApi:
    """`/api/now/table/<table>` of one instance, with the config's credentials."""

    def __init__(self, config: ServiceNowConfig, ctx: ChannelContext) -> None:
        self._ctx = ctx
        self._config = config
        self._url = f"{config.instance_url.rstrip('/')}/api/now/table/{config.table}"
        if config.token:
            auth = f"Bearer {config.token}"
        else:
            auth = basic_authorization(config.username, config.password)
        self._headers = {"Authorization": auth, "Accept": "application/json"}

    async def find_open(self, correlation_id: str, key: str) -> str | None:
        """sys_id of the newest active, not yet resolved record of the group, if any.

        A record in `resolve_state` stays active in ServiceNow until it is closed; a group
        that fires again after that opens a new record, as PagerDuty and Opsgenie do.
        """
        query = (
            f"correlation_id={correlation_id}^active=true"
            f"^state!={self._config.resolve_state}^ORDERBYDESCsys_created_on"
        )
        params = {"sysparm_query": query, "sysparm_limit": "1", "sysparm_fields": "sys_id,number"}
        response = await send_http(
            self._ctx,
            f"{self._url}?{urlencode(params)}",
            method="GET",
            headers=self._headers | {"Idempotency-Key": key},
            timeout=self._config.timeout,
        )
        try:
            found = response.json()
        except MalformedInput:
            # e.g. a hibernating developer instance answering 200 with its wake-up page.
            raise DeliveryFailed(
                f"answered {response.status} with a body that is not JSON", retryable=True
            ) from None
        records = found.get("result") if isinstance(found, dict) else None
        if not isinstance(records, list):
            raise DeliveryFailed("answered without a `result` list", retryable=False)
        if not records:
            return None
        sys_id = records[0].get("sys_id") if isinstance(records[0], dict) else None
        if not isinstance(sys_id, str) or not _SYS_ID.fullmatch(sys_id):
            raise DeliveryFailed("answered a record without a valid sys_id", retryable=False)
        return sys_id

    async def create(self, fields: dict[str, str], key: str) -> None:
        await self._write("POST", self._url, fields, key)

    async def update(self, sys_id: str, fields: dict[str, str], key: str) -> None:
        await self._write("PATCH", f"{self._url}/{sys_id}", fields, key)

    async def _write(self, method: str, url: str, fields: dict[str, str], key: str) -> None:
        await send_http(
            self._ctx,
            url,
            method=method,
            json=fields,
            headers=self._headers | {"Idempotency-Key": key},
            timeout=self._config.timeout,
        )
