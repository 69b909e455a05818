"""AlertEngine: the synchronous write path. The caller gets an answer only after commit."""

from __future__ import annotations

import functools
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from core_alerts.bus import EventBus
from core_alerts.config import Settings
from core_alerts.crypto import FieldCipher
from core_alerts.domain.alert import Alert, AlertStatus
from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import AlertNotFound, StorageUnavailable
from core_alerts.domain.events import AlertChanged
from core_alerts.domain.fingerprint import explain_fingerprint
from core_alerts.domain.ingest import (
    IngestOutcome,
    IngestResult,
    IngestSend,
    NormalizedAlert,
    SendAction,
)
from core_alerts.domain.record import AlertRecord, Decision, Transition
from core_alerts.ingest.decodepool import DecodePool
from core_alerts.ingest.decodewire import DecodeJob
from core_alerts.ingest.formats.registry_types import Decoder
from core_alerts.ingest.normalize import SourceContext, normalize
from core_alerts.ingest.privacy import build_anonymisers
from core_alerts.ingest.sealed import SealedFields
from core_alerts.store import AlertStore
from core_alerts.telemetry import MetricsCollector

# Senders that re-send firing alerts every minute or so (Prometheus, Grafana's Alertmanager
# client), so silence means resolved. Webhook notifications repeat only every few hours.
_RESENDING_FORMATS = frozenset({"alertmanager"})


_PACK_FROM_REPEAT_SHARE = 0.3
_SHARE_WEIGHT = 0.2  # of the latest request in the moving average
_REPEATED = IngestOutcome.DEDUPLICATED.value


DEDUP_REASON = (
    "sends with the same fingerprint while the alert is active are merged into it "
    "(occurrence count, last seen, latest labels and annotations)"
)


class Explanation(msgspec.Struct, kw_only=True):
    """Everything `explain` shows about one alert, as stored."""

    record: AlertRecord
    fingerprint: dict[str, Any]
    dedup_reason: str
    transitions: list[Transition]
    decisions: list[Decision]


class AlertEngine:
    """Ingest, validate, normalize, fingerprint, dedup and persist alerts."""

    def __init__(
        self,
        store: AlertStore,
        bus: EventBus,
        settings: Settings,
        metrics: MetricsCollector,
        clock: Clock,
        formats: dict[str, Decoder],
        cipher: FieldCipher | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.formats = formats
        self._anonymiser = build_anonymisers(settings.privacy)
        self.sealed = SealedFields(settings.privacy, cipher)
        self.before_use: Callable[[], Awaitable[None]] | None = None
        """Starts the engines on first use when start_all() was not awaited."""
        self.decode_pool: DecodePool | None = None
        """Worker processes for large bodies (processing.decode_workers); None decodes here."""
        self.repeat_share = 1.0
        """Moving average of the share of sends that repeated an alert: above
        _PACK_FROM_REPEAT_SHARE, worker-decoded bodies come packed."""

    def context(self, tenant_id: str, source: str, fmt: str) -> SourceContext:
        p = self.settings.processing
        timeout = p.resolve_timeout if fmt in _RESENDING_FORMATS else p.native_resolve_timeout
        return SourceContext(
            tenant_id=tenant_id,
            source=source,
            received_at=self.clock.now(),
            limits=self.settings.limits,
            resolve_timeout=timeout or None,
            anonymiser=self._anonymiser(tenant_id),
        )

    def has_format(self, fmt: str) -> bool:
        return fmt in self.formats

    def decode(
        self, fmt: str, body: bytes, *, tenant_id: str, source: str | None = None
    ) -> list[NormalizedAlert]:
        """Decode and validate a body without writing anything."""
        return self.formats[fmt](body, self.context(tenant_id, source or fmt, fmt))

    async def decode_async(
        self, fmt: str, body: bytes, *, tenant_id: str, source: str | None = None
    ) -> list[NormalizedAlert]:
        """`decode`, in a worker process when the body is large enough to be worth it."""
        pool = self.decode_pool
        if pool is None or not pool.wants(body):
            return self.decode(fmt, body, tenant_id=tenant_id, source=source)
        return await pool.decode(*self._job(fmt, body, tenant_id, source, packed=False))

    async def ingest_payload(
        self, fmt: str, body: bytes, *, tenant_id: str, source: str | None = None
    ) -> list[IngestResult]:
        """Decode a request body in format `fmt` and ingest it (all or nothing)."""
        pool = self.decode_pool
        sends: Sequence[IngestSend]
        if pool is not None and self._packs() and pool.wants(body):
            sends = await pool.decode_packed(*self._job(fmt, body, tenant_id, source, packed=True))
        else:
            sends = await self.decode_async(fmt, body, tenant_id=tenant_id, source=source)
        return await self.ingest(sends)

    def _packs(self) -> bool:
        """Whether worker-decoded bodies come packed. Packing pays off when repeats are
        common (a storm); for new alerts it costs a little more than plain sends, and for a
        store that keeps no digests it is only overhead. Sealing encrypts annotations in the
        sends, so it needs them unpacked."""
        return (
            self.repeat_share >= _PACK_FROM_REPEAT_SHARE
            and self.store.plans_from_digests
            and not self.sealed.active
        )

    def _job(
        self, fmt: str, body: bytes, tenant_id: str, source: str | None, *, packed: bool
    ) -> tuple[DecodeJob, Callable[[], list[NormalizedAlert]]]:
        """A decode worker's job for `body`, and how to decode it here when no worker can."""
        ctx = self.context(tenant_id, source or fmt, fmt)
        job = DecodeJob(
            fmt, body, tenant_id, ctx.source, ctx.received_at, ctx.resolve_timeout, packed
        )
        return job, functools.partial(self.formats[fmt], body, ctx)

    async def ingest(self, sends: Sequence[IngestSend]) -> list[IngestResult]:
        if not sends:
            return []
        started = time.perf_counter()
        await self.sealed.seal(s for s in sends if isinstance(s, NormalizedAlert))
        try:
            results = await self.store.apply_sends(sends)
        except StorageUnavailable:
            self.metrics.database_errors.labels("apply_sends").inc()
            raise
        elapsed = time.perf_counter() - started
        counts: dict[str, Tally[tuple[str, str, str]]] = {}
        for send, res in zip(sends, results, strict=True):
            tally = counts.get(send.tenant_id) or counts.setdefault(send.tenant_id, Tally())
            tally[(send.severity, res.status, res.outcome.value)] += 1
        repeats = 0
        for tenant_id, tally in counts.items():
            self.metrics.record_ingest(tenant_id, tally, elapsed)
            repeats += sum(n for (_, _, outcome), n in tally.items() if outcome == _REPEATED)
        self.repeat_share += (repeats / len(results) - self.repeat_share) * _SHARE_WEIGHT
        await self.bus.publish(AlertChanged.topic, self._events(sends, results))
        return results

    def _events(
        self, sends: Sequence[IngestSend], results: Sequence[IngestResult]
    ) -> list[AlertChanged]:
        latest: dict[tuple[str, str], AlertChanged] = {}
        now = self.clock.now()
        for send, res in zip(
            reversed(sends), reversed(results), strict=True
        ):  # the last send per alert
            key = (send.tenant_id, res.fingerprint)
            if not res.alert_id or key in latest:
                continue
            latest[key] = AlertChanged(
                tenant_id=send.tenant_id,
                alert_id=res.alert_id,
                fingerprint=res.fingerprint,
                outcome=res.outcome.value,
                status=res.status,
                severity=send.severity,
                occurrences=res.occurrences,
                at=now,
                labels=send.labels,
                starts_at=send.starts_at,
            )
        return list(latest.values())

    # -- the seed's Python API -----------------------------------------------------------

    def _from_alert(self, alert: Alert, ctx: SourceContext) -> NormalizedAlert:
        meta = alert.metadata
        action = {
            AlertStatus.RESOLVED: SendAction.RESOLVE,
            AlertStatus.ACKNOWLEDGED: SendAction.ACK,
        }.get(alert.status, SendAction.FIRE)
        return normalize(
            ctx,
            labels=alert.labels,
            annotations=alert.annotations,
            title=alert.title,
            description=alert.description,
            severity=alert.severity,
            starts_at=alert.starts_at.timestamp() if alert.starts_at else None,
            ends_at=alert.ends_at.timestamp() if alert.ends_at else None,
            action=action,
            generator_url=alert.generator_url,
            dedup_key=meta.dedup_key,
            alert_id=meta.alert_id,
        )

    async def process_alerts(self, alerts: Sequence[Alert]) -> list[IngestResult]:
        """Ingest Python Alert objects (one transaction); fills in their fingerprint."""
        if self.before_use is not None:
            await self.before_use()
        sends = []
        for alert in alerts:
            meta = alert.metadata
            ctx = self.context(meta.tenant_id, meta.source, "native")
            sends.append(self._from_alert(alert, ctx))
        results = await self.ingest(sends)
        for alert, res in zip(alerts, results, strict=True):
            alert.metadata.fingerprint = res.fingerprint
            if res.alert_id:
                alert.metadata.alert_id = res.alert_id
        return results

    async def process_alert(self, alert: Alert) -> IngestResult:
        return (await self.process_alerts([alert]))[0]

    async def explain(self, tenant_id: str, alert_id: str) -> Explanation:
        """The alert's decision record: identity, merges, transitions, stage decisions."""
        rec = await self.store.get(tenant_id, alert_id)
        if rec is None:
            raise AlertNotFound(f"alert {alert_id} not found")
        return Explanation(
            record=rec,
            fingerprint=explain_fingerprint(rec.labels, rec.dedup_key),
            dedup_reason=DEDUP_REASON,
            transitions=await self.store.history(tenant_id, alert_id),
            decisions=await self.store.decisions(tenant_id, alert_id),
        )
