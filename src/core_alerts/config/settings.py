"""The settings model: every key, its type, default and allowed values."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core_alerts.config.durations import Duration


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port to listen on.")
    graceful_timeout: Duration = Field(30.0, description="Time to finish in-flight work on stop.")


class DatabaseSettings(_Section):
    backend: Literal["sqlite", "postgres"] = Field("sqlite", description="Storage backend.")
    sqlite_path: str = Field("./var/core-alerts.db", description="SQLite database file.")
    synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite fsync policy; FULL never loses an answered write."
    )
    url: str | None = Field(None, description="PostgreSQL DSN; overrides host/port/name/user.")
    host: str = Field("127.0.0.1", description="PostgreSQL host.")
    port: int = Field(5432, ge=1, le=65535, description="PostgreSQL port.")
    name: str = Field("core_alerts", description="PostgreSQL database name.")
    user: str = Field("postgres", description="PostgreSQL user.")
    password: str | None = Field(None, description="PostgreSQL password.")
    pool_size: int = Field(8, ge=1, le=256, description="PostgreSQL connections per process.")
    connect_timeout: Duration = Field(5.0, description="Time to wait for a connection.")
    app_role: str | None = Field(
        "core_alerts_app",
        description="PostgreSQL role the service acts as, so row-level security applies.",
    )

    def dsn(self) -> str:
        if self.url:
            return self.url
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.name}"


class ProcessingSettings(_Section):
    """The write path (the seed's `alert_engine` / `processing` section)."""

    max_concurrent_alerts: int = Field(
        50_000, ge=1, description="Alerts waiting for commit before new sends get 503."
    )
    batch_processing_size: int = Field(
        1000, ge=1, le=100_000, description="Most sends merged into one commit (group commit)."
    )
    enable_ml_processing: bool = Field(True, description="Allow ML stages to run.")
    processing_timeout: Duration = Field(60.0, description="Longest wait for a commit.")
    resolve_timeout: Duration = Field(
        300.0, description="Alertmanager-format alerts without endsAt resolve after this."
    )
    native_resolve_timeout: Duration = Field(
        0.0, description="Native alerts without ends_at resolve after this; 0 keeps them open."
    )
    expiry_interval: Duration = Field(5.0, description="How often expired alerts are resolved.")
    decode_workers: int = Field(
        -1,
        ge=-1,
        le=64,
        description="Processes that decode large request bodies beside the service; "
        "-1: one per CPU beyond the first (at most 3), 0: decode in the service process.",
    )
    decode_offload_bytes: int = Field(
        16_384, ge=0, description="Bodies at least this large are decoded by those processes."
    )

    def decode_processes(self) -> int:
        if self.decode_workers >= 0:
            return self.decode_workers
        return max(0, min(3, (os.cpu_count() or 1) - 1))


class LimitSettings(_Section):
    max_body_bytes: int = Field(1 << 20, ge=1024, description="Largest request body (bytes).")
    max_alerts_per_request: int = Field(10_000, ge=1, description="Largest batch per request.")
    max_labels: int = Field(64, ge=1, description="Most labels (or annotations) per alert.")
    max_label_name_length: int = Field(256, ge=1, description="Longest label name.")
    max_label_value_length: int = Field(4096, ge=1, description="Longest label value.")
    max_annotation_value_length: int = Field(16_384, ge=1, description="Longest annotation.")
    max_text_length: int = Field(16_384, ge=1, description="Longest title or description.")
    max_page_size: int = Field(1000, ge=1, description="Largest page of a list query.")


class CorrelationSettings(_Section):
    window_minutes: float = Field(
        30, ge=0, alias="correlation_window_minutes", description="Correlation time window."
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["temporal", "semantic", "causal"],
        description="Correlation algorithms to run.",
    )
    ml_confidence_threshold: float = Field(
        0.8, ge=0, le=1, description="Least confidence to group alerts into an incident."
    )


class SuppressionSettings(_Section):
    storm_threshold: int = Field(100, ge=1, description="Alerts per minute that make a storm.")
    deduplication_enabled: bool = Field(True, description="Suppress near-duplicates.")
    intelligent_throttling: bool = Field(True, description="Throttle noisy sources.")


class RemediationSettings(_Section):
    auto_remediation_enabled: bool = Field(True, description="Run workflows automatically.")
    simulation_mode: bool = Field(False, description="Dry-run every workflow.")
    rollback_enabled: bool = Field(True, description="Roll back failed workflows.")


class AnalyticsSettings(_Section):
    real_time_enabled: bool = Field(True, description="Compute KPIs as events arrive.")
    predictions_enabled: bool = Field(
        True, alias="enable_predictions", description="Compute forecasts."
    )
    buffer_size: int = Field(100_000, ge=1, description="Events kept for analytics.")
    dashboard_auto_refresh: Duration = Field(30.0, description="Console refresh period.")


class MLSettings(_Section):
    enabled: bool = Field(True, description="Allow machine-learning features.")
    model_update_interval: Duration = Field(6 * 3600.0, description="Model retraining period.")
    anomaly_threshold: float = Field(0.8, ge=0, le=1, description="Anomaly score threshold.")


class RedisSettings(_Section):
    url: str | None = Field(None, description="Redis URL; set for the distributed mode.")


class JwtKeySettings(_Section):
    kid: str = Field(description="Key id written in each token's header.")
    algorithm: Literal["HS256", "RS256", "EdDSA"] = Field("HS256", description="Its algorithm.")
    secret: str | None = Field(None, repr=False, description="HS256 shared secret.")
    key_file: str | None = Field(
        None, description="RS256/EdDSA PEM file: a private key signs, a public key only verifies."
    )


class SecuritySettings(_Section):
    auth_enabled: bool = Field(
        True, description="Require credentials on the API (off only for local experiments)."
    )
    dev_mode: bool = Field(
        False,
        description="Allow missing or weak keys (ephemeral ones are made); never in production.",
    )
    encryption_key: str | None = Field(None, repr=False, description="Master key for fields.")
    jwt_secret: str | None = Field(
        None, repr=False, description="HS256 secret that signs tokens (at least 32 bytes)."
    )
    jwt_keys: list[JwtKeySettings] = Field(
        default_factory=list,
        description="Token keys for rotation; the first signs, all verify (after jwt_secret).",
    )
    jwt_issuer: str = Field("core-alerts", description="`iss` of issued and accepted tokens.")
    jwt_audience: str = Field("core-alerts", description="`aud` of issued and accepted tokens.")
    jwt_leeway: Duration = Field(30.0, description="Clock skew allowed on `exp` and `iat`.")
    token_ttl: Duration = Field(3600.0, description="Lifetime of tokens issued at login.")
    max_token_ttl: Duration = Field(
        90 * 86400.0, description="Longest lifetime a created token or API key may have."
    )
    admin_token_ttl: Duration = Field(
        86400.0, description="Lifetime of the admin token printed when the server starts."
    )
    credential_cache: Duration = Field(
        5.0, description="How long a process trusts cached keys, tenants and revocations."
    )
    login_free_failures: int = Field(
        5, ge=1, description="Failed logins per user or address before they are slowed."
    )
    metrics_public: bool = Field(True, description="Serve /metrics without credentials.")
    tenant_rate_limit: float = Field(
        10_000, ge=0, description="API requests per second per tenant (0: no limit)."
    )
    tenant_burst: float = Field(20_000, ge=1, description="Requests a tenant may send at once.")
    credential_rate_limit: float = Field(
        5_000, ge=0, description="API requests per second per token or API key (0: no limit)."
    )
    credential_burst: float = Field(
        10_000, ge=1, description="Requests one credential may send at once."
    )
    reencrypt_interval: Duration = Field(
        60.0, description="How often values on old data keys are re-encrypted (after rotation)."
    )
    audit_enabled: bool = Field(True, description="Keep the audit trail.")
    audit_key: str | None = Field(
        None,
        repr=False,
        description="Secret (16+ bytes) keying the audit chain HMAC; unset: plain SHA-256.",
    )


PrivacyField = Literal["title", "description", "annotations", "labels"]


def _text_fields() -> list[PrivacyField]:
    return ["title", "description", "annotations"]


class PrivacyRules(_Section):
    detect: list[Literal["email", "ipv4", "ipv6"]] = Field(
        default_factory=list, description="Built-in kinds of personal data to anonymise."
    )
    patterns: dict[str, str] = Field(
        default_factory=dict,
        description="More kinds: name -> regular expression (RE2 syntax, linear time).",
    )
    name_keys: list[str] = Field(
        default_factory=list,
        description="Label/annotation names whose whole value is a person (e.g. user, owner).",
    )
    encrypt_annotations: list[str] = Field(
        default_factory=list,
        description="Annotations stored encrypted (AES-256-GCM); needs a master key.",
    )
    fields: list[PrivacyField] = Field(
        default_factory=_text_fields,
        description="Where to look; labels change fingerprints, so they are off by default.",
    )


class PrivacySettings(PrivacyRules):
    pseudonym_key: str | None = Field(
        None,
        repr=False,
        description="Secret for stable pseudonyms (same value, same token); unset: redaction.",
    )
    tenants: dict[str, PrivacyRules] = Field(
        default_factory=dict, description="Rules for one tenant, instead of the ones above."
    )


class RetentionSettings(_Section):
    resolved_days: float | None = Field(
        None, gt=0, description="Delete alerts resolved longer ago than this; unset: keep all."
    )
    tenants: dict[str, float] = Field(
        default_factory=dict, description="Days for one tenant, instead of resolved_days."
    )
    interval: Duration = Field(3600.0, description="How often the retention job runs.")
    batch: int = Field(1000, ge=1, description="Alerts deleted per transaction.")


class ComplianceSettings(_Section):
    tls_terminated_by: str | None = Field(
        None, description="What terminates TLS in front of the service (e.g. 'nginx on host X')."
    )
    backups: str | None = Field(
        None, description="How the database is backed up (e.g. 'pgBackRest, daily, 30 days')."
    )


class ReceiverSettings(_Section):
    generic: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named field mappings for POST /api/v1/receivers/generic/{name}.",
    )


class NotificationSettings(_Section):
    config_file: str | None = Field(
        None,
        description="An alertmanager.yml for tenants that have not saved their own through "
        "PUT /api/v1/config (reloaded on SIGHUP and POST /-/reload).",
    )
    enabled: bool = Field(True, description="Route, group and deliver notifications.")
    external_url: str = Field(
        "", description="This service's URL as receivers should link to it (externalURL)."
    )
    max_attempts: int = Field(
        10, ge=1, le=1000, description="Attempts before a notification goes to the dead letters."
    )
    backoff_initial: Duration = Field(1.0, description="Delay before the first retry.")
    backoff_max: Duration = Field(300.0, description="Longest delay between two attempts.")
    receiver_rate_limit: float = Field(
        10.0, gt=0, description="Notifications per second to one receiver (token bucket)."
    )
    receiver_burst: float = Field(20.0, ge=1, description="Notifications a receiver takes at once.")
    tenant_rate_limit: float = Field(
        50.0, gt=0, description="Notifications per second of one tenant, all receivers together."
    )
    tenant_burst: float = Field(100.0, ge=1, description="Notifications a tenant sends at once.")
    receiver_concurrency: int = Field(
        4, ge=1, le=64, description="Deliveries in flight to one receiver."
    )
    lease: Duration = Field(
        120.0, description="How long a worker owns a delivery before another may take it."
    )
    max_alerts_per_notification: int = Field(
        1000, ge=1, description="Alerts carried by one notification; the rest are counted."
    )
    keep_delivered: Duration = Field(
        7 * 86400.0, description="How long delivered notifications stay in the history."
    )
    outbound_allow: list[str] = Field(
        default_factory=list,
        description="Private or loopback destinations receivers may reach anyway "
        "(CIDRs, host names, '*.suffix').",
    )
    matcher_syntax: Literal["classic", "fallback", "utf8"] = Field(
        "classic",
        description="How `matchers:` strings and API filters are read: as Alertmanager 0.25 "
        "(classic), as 0.27+ by default (fallback: classic, else UTF-8), or UTF-8 only.",
    )
    outbound_ports: list[int] | None = Field(
        None, description="Ports receivers may use (unset: any)."
    )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["json", "console"] = Field("console", description="Log line format.")


class Settings(_Section):
    """All of core-alerts' configuration, frozen once loaded."""

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    processing: ProcessingSettings = ProcessingSettings()
    limits: LimitSettings = LimitSettings()
    correlation: CorrelationSettings = CorrelationSettings()
    suppression: SuppressionSettings = SuppressionSettings()
    remediation: RemediationSettings = RemediationSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    ml: MLSettings = MLSettings()
    security: SecuritySettings = SecuritySettings()
    privacy: PrivacySettings = PrivacySettings()
    retention: RetentionSettings = RetentionSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    receivers: ReceiverSettings = ReceiverSettings()
    notifications: NotificationSettings = NotificationSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _batch_fits_queue(self) -> Settings:
        if self.processing.batch_processing_size > self.processing.max_concurrent_alerts:
            raise ValueError(
                "processing.batch_processing_size must not exceed processing.max_concurrent_alerts"
            )
        return self
