"""ServiceNowChannel: one record per group, found again by its correlation_id."""

from __future__ import annotations

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelContext
from core_alerts.notify.channels.sending import ConfiguredChannel, Renderer
from core_alerts.notify.channels.servicenow.config import ServiceNowConfig
from core_alerts.notify.channels.servicenow.records import (
    defuse,
    new_record,
    resolution,
    work_note,
)
from core_alerts.notify.channels.servicenow.table import TableApi
from core_alerts.notify.templates import notification_data


class ServiceNowChannel(ConfiguredChannel[ServiceNowConfig]):
    """Firing: add a work note to the group's open record, or create one. All resolved:
    resolve the open record (nothing to do without one).

    Looking the record up before writing makes a retried delivery update the record the
    first attempt created instead of creating a second one.
    """

    def __init__(self, config: ServiceNowConfig, ctx: ChannelContext) -> None:
        super().__init__(config, ctx)
        self._table = TableApi(config, ctx)

    async def _deliver(self, notification: Notification) -> None:
        # Incident fields are plain text: values are not escaped, only kept out of the template.
        render = Renderer(self._ctx.templates, defuse(notification_data(notification)))
        key = notification.id
        sys_id = await self._table.find_open(notification.group_hash, key)
        if notification.status == "resolved":
            if sys_id is not None:
                await self._table.update(sys_id, resolution(self._config, render), key)
        elif sys_id is None:
            await self._table.create(new_record(self._config, notification, render), key)
        else:
            await self._table.update(sys_id, work_note(self._config, render), key)
