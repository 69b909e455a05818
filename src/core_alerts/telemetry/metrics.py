"""MetricsCollector: the seed's metric names, on a registry of its own."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


class MetricsCollector:
    """Prometheus metrics of the service itself, exposed at /metrics."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.alerts_processed = Counter(
            "alerts_processed_total",
            "Alerts processed, by tenant, severity and resulting status.",
            ["tenant_id", "severity", "status"],
            registry=r,
        )
        self.ingest_outcomes = Counter(
            "alerts_ingest_outcomes_total",
            "What happened to each send (created, deduplicated, resolved, refired ...).",
            ["tenant_id", "outcome"],
            registry=r,
        )
        self.processing_duration = Histogram(
            "alert_processing_duration_seconds",
            "Time from decode to commit for a batch of alerts.",
            ["tenant_id", "severity"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.request_batch_size = Histogram(
            "alert_request_batch_size",
            "Alerts per ingestion request.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.commit_group_sends = Histogram(
            "alert_commit_group_sends",
            "Sends written by one group commit.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.commit_group_requests = Histogram(
            "alert_commit_group_requests",
            "Requests sharing one group commit.",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.commit_duration = Histogram(
            "alert_commit_duration_seconds",
            "Duration of one group commit transaction.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.database_errors = Counter(
            "database_errors_total",
            "Database operations that failed.",
            ["operation"],
            registry=r,
        )
        self.rejected = Counter(
            "alerts_rejected_total",
            "Requests refused, by reason (validation, limit, overload ...).",
            ["reason"],
            registry=r,
        )
        self.pending_commit = Gauge(
            "alerts_pending_commit", "Sends waiting for commit.", registry=r
        )
        self.expired = Counter(
            "alerts_auto_resolved_total",
            "Alerts resolved because endsAt passed or the source stopped re-sending.",
            ["tenant_id"],
            registry=r,
        )

        self.notifications = Counter(
            "notifications_total",
            "Delivery attempts, by integration and outcome (delivered, failed, dead, "
            "rate_limited).",
            ["integration", "status"],
            registry=r,
        )
        self.notification_latency = Histogram(
            "notification_latency_seconds",
            "Duration of one delivery attempt, by integration.",
            ["integration"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.notification_queue = Gauge(
            "notification_queue_depth",
            "Notifications waiting for delivery, by tenant.",
            ["tenant_id"],
            registry=r,
        )
        self.notification_dead = Gauge(
            "notification_dead_letters",
            "Notifications in the dead-letter queue, by tenant.",
            ["tenant_id"],
            registry=r,
        )
        self.notifications_rate_limited = Counter(
            "notifications_rate_limited_total",
            "Deliveries postponed by a receiver's or tenant's rate limit.",
            ["integration", "scope"],
            registry=r,
        )
        self.notification_flushes = Counter(
            "notification_group_flushes_total",
            "Aggregation-group flushes, by whether they produced notifications.",
            ["result"],
            registry=r,
        )
        self.routing_config_reloads = Counter(
            "routing_config_reloads_total",
            "Routing configuration loads, by outcome.",
            ["outcome"],
            registry=r,
        )

    def record_ingest(
        self,
        tenant_id: str,
        counts: Mapping[tuple[str, str, str], int],
        seconds: float,
    ) -> None:
        """Count sends per (severity, status, outcome): one increment per distinct key."""
        by_status: Tally[tuple[str, str]] = Tally()
        by_outcome: Tally[str] = Tally()
        for (severity, status, outcome), n in counts.items():
            by_status[(severity, status)] += n
            by_outcome[outcome] += n
        for (severity, status), n in by_status.items():
            self.alerts_processed.labels(tenant_id, severity, status).inc(n)
        for severity in {sev for sev, _ in by_status}:
            self.processing_duration.labels(tenant_id, severity).observe(seconds)
        for outcome, n in by_outcome.items():
            self.ingest_outcomes.labels(tenant_id, outcome).inc(n)
        self.request_batch_size.observe(sum(by_outcome.values()))

    def record_group(self, requests: int, sends: int, seconds: float) -> None:
        self.commit_group_requests.observe(requests)
        self.commit_group_sends.observe(sends)
        self.commit_duration.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
