"""EngineOrchestrator: builds and wires all engines; start_all / stop_all / get_engine."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Mapping
from typing import Any

import msgspec
import structlog

from core_alerts import __version__
from core_alerts.app.backends import (
    build_access_store,
    build_audit_log,
    build_buckets,
    build_bus,
    build_notify_store,
    build_store,
)
from core_alerts.app.notifications import Notifications
from core_alerts.compliance import ComplianceManager, Facts, RetentionJob, SubjectRequests
from core_alerts.config import SecuritySettings, Settings, load_settings
from core_alerts.crypto import FieldCipher, parse_master_keys
from core_alerts.domain.audit import AuditEntry
from core_alerts.domain.clock import Clock, SystemClock
from core_alerts.domain.datakeys import DataKeyStore
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.notification import Notification
from core_alerts.ingest import AlertEngine
from core_alerts.ingest.decodepool import DecodePool
from core_alerts.ingest.formats.registry import build_formats
from core_alerts.pipeline import Periodic
from core_alerts.security import AuditTrail, SecurityManager
from core_alerts.state import StateManager
from core_alerts.telemetry import MetricsCollector

log = structlog.get_logger(__name__)


class _StartHandle:
    """What start_all() returns: await it, or ignore it and let first use start the engines."""

    def __init__(self, orchestrator: EngineOrchestrator) -> None:
        self._orchestrator = orchestrator

    def __await__(self) -> Generator[Any, None, None]:
        return self._orchestrator.start().__await__()


def _field_cipher(sec: SecuritySettings, keys: DataKeyStore, clock: Clock) -> FieldCipher | None:
    """The cipher of sensitive fields; None without a master key outside dev mode (the
    `serve` command refuses to start then; embedded use simply stores nothing encrypted)."""
    if not sec.encryption_key and not sec.dev_mode:
        return None
    ring = parse_master_keys(sec.encryption_key, dev_mode=sec.dev_mode)  # weak: ConfigError
    return FieldCipher(ring, keys, clock=clock)


class EngineOrchestrator:
    """Builds the engines named in the seed from one configuration and runs them."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        config_file: str | None = None,
    ) -> None:
        self.settings = settings or load_settings(config, config_file=config_file)
        self.clock = clock or SystemClock()
        self.metrics = MetricsCollector()
        self.store = build_store(self.settings, self.clock, self.metrics)
        self.bus = build_bus(self.settings)
        access = build_access_store(self.settings)
        self.field_cipher = _field_cipher(self.settings.security, access, self.clock)
        self.alert_engine = AlertEngine(
            self.store,
            self.bus,
            self.settings,
            self.metrics,
            self.clock,
            build_formats(self.settings.receivers.generic),
            cipher=self.field_cipher,
        )
        self.state_manager = StateManager(
            self.store,
            self.bus,
            self.clock,
            self.metrics,
            expiry_interval=self.settings.processing.expiry_interval,
        )
        sec = self.settings.security
        audit_key = sec.audit_key.encode() if sec.audit_key else None
        trail = (
            AuditTrail(
                build_audit_log(self.settings, self.clock, audit_key), self.clock, key=audit_key
            )
            if sec.audit_enabled
            else None
        )
        self.security_manager = SecurityManager(
            sec, access, self.clock, trail=trail, buckets=build_buckets(self.settings)
        )
        self.retention = RetentionJob(
            self.settings.retention,
            self.store,
            self.clock,
            tenants=self._tenant_ids,
            record=self._record_purge,
        )
        self.subjects = SubjectRequests(
            self.store, self._audit_of, self._record_erasure, self.alert_engine.sealed.reveal
        )
        self.compliance_manager = ComplianceManager(
            self.settings, self.clock, self._compliance_facts, __version__
        )
        self.notifications: Notifications | None = None
        if self.settings.notifications.enabled:
            self.notifications = Notifications(
                self.settings.notifications, self.clock, self.metrics, self.store,
                build_notify_store(self.settings, self.clock), build_buckets(self.settings),
                tenants=self._tenant_ids, reveal=self._reveal_notification,
                cipher=self.field_cipher,
            )  # fmt: skip
            self.bus.subscribe(AlertChanged.topic, self.notifications.observe)
        self._engines: dict[str, Any] = {
            "alert_engine": self.alert_engine,
            "state_manager": self.state_manager,
            "security_manager": self.security_manager,
            "compliance_manager": self.compliance_manager,
            "metrics_collector": self.metrics,
        }
        if self.notifications is not None:
            self._engines["notification_hub"] = self.notifications.hub
        self._started = False
        self._lock: asyncio.Lock | None = None
        self._reseal = Periodic(
            self._reseal_logged,
            self.settings.security.reencrypt_interval,
            "re-encryption",
            run_first=True,
        )
        self.alert_engine.before_use = self.start
        proc = self.settings.processing
        if proc.decode_processes():
            self.alert_engine.decode_pool = DecodePool(
                self.settings, proc.decode_processes(), proc.decode_offload_bytes
            )

    async def reseal_all(self) -> dict[str, int]:
        """Re-encrypt every tenant's values that are not on its active data key."""
        done = {}
        for tenant_id in await self._tenant_ids():
            n = await self.alert_engine.sealed.reseal(self.store, tenant_id)
            if n:
                done[tenant_id] = n
        return done

    async def _reseal_logged(self) -> None:
        done = await self.reseal_all()
        if done:
            log.info("re-encrypted alerts on old data keys", alerts=done)

    async def _reveal_notification(self, n: Notification) -> Notification:
        """The notification with its sensitive annotations decrypted, for sending."""
        sealed = self.alert_engine.sealed
        alerts = []
        for a in n.alerts:
            shown = await sealed.reveal_annotations(
                n.tenant_id, a.alert_id, a.fingerprint, a.annotations
            )
            alerts.append(a if shown is a.annotations else msgspec.structs.replace(
                a, annotations=shown
            ))  # fmt: skip
        return msgspec.structs.replace(n, alerts=tuple(alerts))

    async def _tenant_ids(self) -> list[str]:
        return [t.id for t in await self.security_manager.store.list_tenants()]

    async def _compliance_facts(self) -> Facts:
        security = self.security_manager
        tenants = await self._tenant_ids()
        chains = {}
        if security.trail is not None:
            chains = {t: (await security.trail.verify(t)).ok for t in tenants}
        keys = [k for t in tenants for k in await security.store.list_api_keys(t)]
        return Facts(chains=chains, api_keys=keys, now=self.clock.now())

    async def _audit_of(self, tenant_id: str, actor: str) -> list[AuditEntry]:
        trail = self.security_manager.trail
        if trail is None:
            return []
        await trail.flush()
        entries: list[AuditEntry] = []
        after = None
        while True:
            page = await trail.log.list(tenant_id, actor=actor, after_seq=after, limit=1000)
            entries.extend(page.entries)
            if page.next_after_seq is None:
                return entries
            after = page.next_after_seq

    def _record_erasure(self, tenant_id: str, by: str, subject_sha256: str, deleted: int) -> None:
        self.security_manager.audit(
            tenant_id, by, "privacy.erasure",
            details={"subject_sha256": subject_sha256, "alerts_deleted": deleted},
        )  # fmt: skip

    def _record_purge(self, tenant_id: str, deleted: int, days: float) -> None:
        self.security_manager.audit(
            tenant_id, "system", "retention.purge",
            details={"alerts_deleted": deleted, "resolved_days": days},
        )  # fmt: skip

    @property
    def engines(self) -> dict[str, Any]:
        return dict(self._engines)

    def get_engine(self, name: str) -> Any:
        try:
            return self._engines[name]
        except KeyError:
            known = ", ".join(sorted(self._engines))
            raise KeyError(f"unknown engine {name!r}; known engines: {known}") from None

    def start_all(self) -> _StartHandle:
        """Start every engine. Await the result in async code; from sync code the engines
        start on first use inside the running event loop."""
        return _StartHandle(self)

    async def start(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._started:
                return
            await self.store.open()
            try:
                await self.security_manager.open()
            except BaseException:
                await self.store.close()
                raise
            if self.notifications is not None:
                try:
                    await self.notifications.start()
                except BaseException:
                    await self.security_manager.close()
                    await self.store.close()
                    raise
            await self.bus.start()
            self.state_manager.start()
            self.retention.start()
            if self.field_cipher is not None:
                await self.field_cipher.data_keys.rewrap_all()  # a new master key was put first
                self._reseal.start()
            self._started = True

    async def stop_all(self) -> None:
        """Stop taking work, commit what is queued, then close the store."""
        if not self._started:
            return
        await self.state_manager.stop()
        await self.retention.stop()
        await self._reseal.stop()
        if self.alert_engine.decode_pool is not None:
            await self.alert_engine.decode_pool.close()
        await self.bus.stop()  # hands the last events to the dispatcher
        if self.notifications is not None:
            await self.notifications.stop()
        await self.store.close()
        await self.security_manager.close()
        self._started = False

    @property
    def started(self) -> bool:
        return self._started
