"""Notifications wired together: each tenant's alertmanager.yml -> routing tree, dispatcher
(groups and timers), NotificationHub (log and outbox) and the delivery worker.

A tenant's config is the one it saved through the API, else the file of
`notifications.config_file`. A new config is checked whole before it replaces the old one;
an invalid one changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import msgspec
import structlog
import yaml

from core_alerts.config import NotificationSettings
from core_alerts.crypto import FieldCipher, is_encrypted
from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import ConfigError, CoreAlertsError, ValidationFailed
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.matchers import MatcherSyntax
from core_alerts.domain.notification import Notification
from core_alerts.domain.record import AlertRecord, Decision
from core_alerts.notify import (
    ChannelContext,
    DeliveryPolicy,
    DeliveryWorker,
    IntegrationConfig,
    NotificationHub,
    TemplateEngine,
    build_integrations,
    parse_receiver,
    redact,
    restore,
)
from core_alerts.outbound import (
    AllowList,
    OutboundBlocked,
    OutboundClient,
    OutboundPolicy,
    validate_url,
)
from core_alerts.pipeline import Periodic
from core_alerts.routing import (
    AlertmanagerConfig,
    Dispatcher,
    RouteMatch,
    RoutingTree,
    compile_time_intervals,
    load_config,
)
from core_alerts.store import AlertQuery, AlertStore, NotifyStore, StoredConfig, TokenBuckets
from core_alerts.telemetry import MetricsCollector

log = structlog.get_logger(__name__)

_ACTIVE = ["firing", "acknowledged", "suppressed"]
_CONFIG_TABLE = "notify_configs"
DEFAULT_CONFIG = "route:\n  receiver: default\nreceivers:\n  - name: default\n"
"""In force for tenants without a config of their own when no config file is set: every
alert is grouped under one receiver that sends nothing."""
_VERSION_POLL = 5.0
_GAUGE_INTERVAL = 15.0
_PURGE_INTERVAL = 3600.0

Reveal = Callable[[Notification], Awaitable[Notification]]


@dataclass(frozen=True, slots=True)
class TenantRouting:
    """A tenant's config in force."""

    config: AlertmanagerConfig
    tree: RoutingTree
    integrations: dict[str, list[IntegrationConfig]]
    source: str
    """"api" (saved through the API), "file" (notifications.config_file) or "default"."""
    version: int = 0


def parse_routing(
    text: str, source: str = "api", version: int = 0, syntax: MatcherSyntax = "classic"
) -> TenantRouting:
    """Check a whole alertmanager.yml: routes, receivers and channel configs, time intervals.
    Raises ConfigError naming the line (and receiver, integration and field) at fault."""
    config = load_config(text, matcher_syntax=syntax)
    integrations = {
        r.name: parse_receiver(r.name, r.configs, config.global_, r.line) for r in config.receivers
    }
    tree = RoutingTree.from_config(config)
    compile_time_intervals(config.time_intervals)
    return TenantRouting(config, tree, integrations, source, version)


class Notifications:
    """Owns the notification path of one process."""

    def __init__(
        self,
        settings: NotificationSettings,
        clock: Clock,
        metrics: MetricsCollector,
        alerts: AlertStore,
        store: NotifyStore,
        buckets: TokenBuckets,
        *,
        tenants: Callable[[], Awaitable[list[str]]],
        reveal: Reveal | None = None,
        cipher: FieldCipher | None = None,
    ) -> None:
        """`cipher` encrypts saved configs at rest (they hold channel secrets)."""
        self.settings = settings
        self.clock = clock
        self.store = store
        self._alerts = alerts
        self._metrics = metrics
        self._tenants = tenants
        self._cipher = cipher
        self.templates = TemplateEngine()
        self.policy = OutboundPolicy(
            allow=AllowList.parse(settings.outbound_allow),
            allowed_ports=frozenset(settings.outbound_ports) if settings.outbound_ports else None,
        )
        self._http: OutboundClient | None = None
        self.hub = NotificationHub(
            store, alerts, clock, metrics,
            external_url=settings.external_url,
            max_alerts=settings.max_alerts_per_notification,
            on_enqueued=self._wake_delivery,
        )  # fmt: skip
        self.dispatcher = Dispatcher(
            clock, on_flush=self.hub.flush, timers=store, write_behind=True
        )
        self.delivery = DeliveryWorker(
            store, clock, self.hub.integration, buckets, metrics,
            DeliveryPolicy(
                max_attempts=settings.max_attempts,
                backoff_initial=settings.backoff_initial,
                backoff_max=settings.backoff_max,
                receiver_rate=settings.receiver_rate_limit,
                receiver_burst=settings.receiver_burst,
                tenant_rate=settings.tenant_rate_limit,
                tenant_burst=settings.tenant_burst,
                concurrency=settings.receiver_concurrency,
                lease=settings.lease,
            ),
            owner=f"{socket.gethostname()}:{os.getpid()}",
            prepare=reveal,
        )  # fmt: skip
        self.hub.taker = self.delivery
        self._routing: dict[str, TenantRouting] = {}
        self._dispatched: set[str] = set()
        """Tenants whose alerts the dispatcher groups (their config has integrations)."""
        self._catch_up: set[str] = set()
        self._file: TenantRouting | None = None
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._jobs = [
            Periodic(self.delivery.refresh_gauges, _GAUGE_INTERVAL, "notification gauges",
                     run_first=True),
            Periodic(self._purge, _PURGE_INTERVAL, "notification purge"),
            Periodic(self._follow_saved, _VERSION_POLL, "routing config poll"),
        ]  # fmt: skip

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()
        self._http = OutboundClient(self.policy)
        try:
            if self.settings.config_file:
                self._file = self._read_file()  # a bad file fails the start
            else:
                self._file = self._parse(DEFAULT_CONFIG, "default")
            for tenant_id in await self._known_tenants():
                await self._install_current(tenant_id)
            await self._restore()
        except BaseException:
            await self._http.aclose()
            self._http = None
            await self.store.close()
            raise
        self.start_loops()

    def start_loops(self) -> None:
        """Start the dispatcher's and the delivery worker's loops and the periodic jobs."""
        self._stop.clear()
        self._loops = [
            asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher"),
            asyncio.create_task(self.delivery.run(self._stop), name="delivery"),
        ]
        for job in self._jobs:
            job.start()

    async def stop(self) -> None:
        await self.stop_loops()
        await self.dispatcher.flush_timers()
        await self.delivery.drain()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await self.store.close()

    async def stop_loops(self) -> None:
        """Stop the loops (tests then drive dispatch and delivery by hand, on a fake clock)."""
        self._stop.set()
        for job in self._jobs:
            await job.stop()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops = []

    def _wake_delivery(self) -> None:
        self.delivery.wake()

    # -- configuration ---------------------------------------------------------------------

    def _read_file(self) -> TenantRouting:
        path = self.settings.config_file or ""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        try:
            return self._parse(text, "file")
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}", field=exc.field) from None

    def _parse(self, text: str, source: str = "api", version: int = 0) -> TenantRouting:
        return parse_routing(text, source, version, self.settings.matcher_syntax)

    def _install(self, tenant_id: str, routing: TenantRouting) -> None:
        assert self._http is not None, "start() first"
        ctx = ChannelContext(
            http=self._http,
            templates=self.templates,
            clock=self.clock,
            external_url=self.settings.external_url,
            policy=self.policy,
        )
        self.hub.set_receivers(
            tenant_id,
            {name: build_integrations(cfgs, ctx) for name, cfgs in routing.integrations.items()},
        )
        intervals = {t.name: t for t in routing.config.time_intervals}
        self.dispatcher.set_tree(tenant_id, routing.tree, intervals)
        self._routing[tenant_id] = routing
        # Only a tenant whose config can send anything has its alerts grouped: the default
        # config (one receiver, no integration) then costs no memory per alert.
        if not any(routing.integrations.values()):
            if tenant_id in self._dispatched:
                self._dispatched.discard(tenant_id)
                self.dispatcher.forget(tenant_id)
        elif tenant_id not in self._dispatched:
            self._dispatched.add(tenant_id)
            self._catch_up.add(tenant_id)

    async def _caught_up(self) -> None:
        """Group the active alerts of tenants whose config has just begun to send."""
        while self._catch_up:
            tenant_id = self._catch_up.pop()
            try:
                await self.dispatcher.observe(await self._active_events(tenant_id))
            except BaseException:
                self._catch_up.add(tenant_id)  # the next event or reload tries again
                raise

    async def _install_current(self, tenant_id: str) -> None:
        saved = await self.store.get_config(tenant_id)
        if saved is not None:
            try:
                text = await self._unseal(tenant_id, saved.text)
                self._install(tenant_id, self._parse(text, "api", saved.version))
                return
            except CoreAlertsError as exc:  # unreadable or from another version: keep serving
                log.error("saved routing config is unusable", tenant=tenant_id, error=exc.message)
        if self._file is not None:
            self._install(tenant_id, self._file)

    async def _known_tenants(self) -> list[str]:
        """Tenants of the access store, with saved configs, or with stored group timers
        (so a restart finds every group a config routes to)."""
        saved = await self.store.config_versions()
        grouped = {g.tenant_id for g in await self.store.load_groups()}
        return sorted(set(await self._tenants()) | set(saved) | grouped)

    async def _follow_saved(self) -> None:
        """Pick up configs saved by other processes."""
        for tenant_id, version in (await self.store.config_versions()).items():
            current = self._routing.get(tenant_id)
            if current is None or current.source != "api" or current.version < version:
                await self._install_current(tenant_id)
        await self._caught_up()

    async def reload(self) -> dict[str, str]:
        """Re-read the config file and every saved config (SIGHUP, POST /-/reload).
        Returns the errors by source; what failed keeps its previous config."""
        errors: dict[str, str] = {}
        if self.settings.config_file:
            try:
                new_file = self._read_file()
            except ConfigError as exc:
                errors["file"] = exc.message
            else:
                self._file = new_file
                for tenant_id, routing in list(self._routing.items()):
                    if routing.source == "file":
                        self._install(tenant_id, new_file)
        await self._follow_saved()
        self._metrics.routing_config_reloads.labels("failure" if errors else "success").inc()
        return errors

    async def save(self, tenant_id: str, text: str, by: str) -> StoredConfig:
        """Check and save a tenant's config, then put it in force. `<secret>` placeholders
        keep the values saved before."""
        text = self._with_secrets(tenant_id, text)
        try:
            routing = self._parse(text)
        except ConfigError as exc:  # the caller's document, not the service's: a 4xx
            raise ValidationFailed(exc.message, field=exc.field) from None
        await self._check_destinations(routing)
        sealed = await self._seal(tenant_id, text)
        saved = await self.store.put_config(tenant_id, sealed, by, self.clock.now())
        self._install(tenant_id, TenantRouting(
            routing.config, routing.tree, routing.integrations, "api", saved.version
        ))  # fmt: skip
        await self._caught_up()
        self._metrics.routing_config_reloads.labels("success").inc()
        return saved

    async def _check_destinations(self, routing: TenantRouting) -> None:
        """Refuse at save the URLs the outbound policy would refuse at send (loopback,
        private, metadata ...). A name that does not resolve now is accepted: the send
        checks again, with the address it connects to pinned."""
        for configs in routing.integrations.values():
            for integration in configs:
                for url in _urls(msgspec.to_builtins(integration.config)):
                    try:
                        await validate_url(url, self.policy)
                    except OutboundBlocked as exc:
                        raise ValidationFailed(
                            f"receiver {integration.receiver!r}: {integration.key}: {exc.message}",
                            field="url",
                        ) from None
                    except ValidationFailed:
                        continue

    async def _seal(self, tenant_id: str, text: str) -> str:
        if self._cipher is None:
            return text
        return await self._cipher.encrypt(tenant_id, _CONFIG_TABLE, "text", tenant_id, text)

    async def _unseal(self, tenant_id: str, text: str) -> str:
        if self._cipher is None or not is_encrypted(text):
            return text
        return await self._cipher.decrypt(tenant_id, _CONFIG_TABLE, "text", tenant_id, text)

    def _with_secrets(self, tenant_id: str, text: str) -> str:
        if "<secret>" not in text:
            return text
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            return text  # parse_routing names the line
        current = self._routing.get(tenant_id)
        saved = yaml.safe_load(current.config.original) if current else None
        if not isinstance(document, dict):
            return text
        return yaml.safe_dump(restore(document, saved), sort_keys=False, allow_unicode=True)

    def routing(self, tenant_id: str) -> TenantRouting | None:
        return self._routing.get(tenant_id) or self._file

    def shown_config(self, tenant_id: str) -> tuple[str, TenantRouting] | None:
        """The config in force with every secret replaced by `<secret>`."""
        routing = self.routing(tenant_id)
        if routing is None:
            return None
        document = yaml.safe_load(routing.config.original)
        shown = yaml.safe_dump(redact(document), sort_keys=False, allow_unicode=True)
        return shown, routing

    def route(self, tenant_id: str, labels: dict[str, str]) -> list[RouteMatch]:
        routing = self.routing(tenant_id)
        if routing is None:
            raise ValidationFailed("no routing configuration is loaded for this tenant")
        return routing.tree.route(labels)

    async def decisions(self, tenant_id: str, alert_id: str) -> list[Decision]:
        """The alert's notifications as entries of its decision record (`explain`)."""
        verdict = {"pending": "queued", "delivered": "notified", "dead": "dead letter"}
        out = []
        for entry in await self.store.for_alert(tenant_id, alert_id):
            n = entry.notification
            reason = f"group {n.group_key} via {n.receiver}/{n.integration}"
            if entry.last_error:
                reason += f" (last error: {entry.last_error})"
            out.append(
                Decision(
                    tenant_id=tenant_id, alert_id=alert_id, at=n.created_at, stage="notify",
                    decision=verdict[entry.state], reason=reason,
                    details={"notification_id": n.id, "attempts": entry.attempts},
                )
            )  # fmt: skip
        return out

    # -- events and restart ------------------------------------------------------------------

    async def observe(self, events: Sequence[AlertChanged]) -> None:
        if self._file is not None:
            for tenant_id in {e.tenant_id for e in events} - self._routing.keys():
                self._install(tenant_id, self._file)
        await self._caught_up()
        dispatched = self._dispatched
        await self.dispatcher.observe([e for e in events if e.tenant_id in dispatched])

    async def _restore(self) -> None:
        """Rebuild the groups from the stored alerts and the resolves the log still owes."""
        events: list[AlertChanged] = []
        owed: list[tuple[str, str, str]] = []
        self._catch_up.clear()  # the restore below covers them
        for tenant_id in self._dispatched:
            events.extend(await self._active_events(tenant_id))
            logged = await self.store.log_alert_ids(tenant_id)
            owed.extend(logged)
            records = await self._alerts.get_many(tenant_id, sorted({a for _, _, a in logged}))
            events.extend(_event(r, self.clock.now()) for r in records if r.status == "resolved")
        await self.dispatcher.restore(events, owed)

    async def _active_events(self, tenant_id: str) -> list[AlertChanged]:
        events: list[AlertChanged] = []
        query = AlertQuery(statuses=_ACTIVE, limit=1000)
        while True:
            page = await self._alerts.query(tenant_id, query)
            now = self.clock.now()
            events.extend(_event(r, now) for r in page.items)
            if page.next_cursor is None:
                return events
            query = msgspec.structs.replace(query, after_seq=page.next_cursor)

    async def _purge(self) -> None:
        await self.store.purge(self.clock.now() - self.settings.keep_delivered)


def _urls(value: object) -> list[str]:
    """Every http(s) URL in a config's values (templates are left to the send's check)."""
    if isinstance(value, str):
        return [value] if value.startswith(("http://", "https://")) else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in _urls(v)]
    return []


def _event(record: AlertRecord, now: float) -> AlertChanged:
    return AlertChanged.of(record, outcome="restored", at=now, status=record.effective_status(now))
