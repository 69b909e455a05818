"""The controls this service can evidence, checked against the live configuration and state.

Each check maps to the controls of SOC 2 (Trust Services Criteria), ISO/IEC 27001:2022
(Annex A), GDPR (articles) and the HIPAA Security Rule (45 CFR 164) it supports. A check
passes, fails, warns, or is `declared`: the operator states a fact the service cannot see
(backups, TLS in front of it), which an auditor then verifies by hand.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Literal

import msgspec

from core_alerts.config import Settings
from core_alerts.crypto import parse_master_keys
from core_alerts.domain.access import ApiKeyRecord, Scope
from core_alerts.domain.errors import ConfigError

Status = Literal["pass", "fail", "warn", "declared"]
_POWERFUL = {Scope.KEYS_WRITE.value, Scope.USERS_WRITE.value, Scope.TENANTS_ADMIN.value}


class Facts(msgspec.Struct, kw_only=True):
    """What the checks need besides the settings, gathered by the composition root."""

    chains: dict[str, bool]
    """Tenant -> its audit chain verifies."""
    api_keys: list[ApiKeyRecord]
    now: float


class Control(msgspec.Struct, frozen=True):
    soc2: list[str]
    iso27001: list[str]
    gdpr: list[str]
    hipaa: list[str]


class CheckResult(msgspec.Struct, kw_only=True):
    id: str
    title: str
    status: Status
    evidence: str
    remediation: str = ""
    controls: Control


Check = Callable[[Settings, Facts], tuple[Status, str, str]]
"""-> (status, evidence, remediation)"""


def _auth(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if s.security.auth_enabled:
        return "pass", "security.auth_enabled is true: every API route needs credentials", ""
    return "fail", "security.auth_enabled is false", "set security.auth_enabled: true"


def _dev_mode(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if not s.security.dev_mode:
        return "pass", "security.dev_mode is false: weak or missing keys stop the start", ""
    return "fail", "security.dev_mode is true", "set security.dev_mode: false"


def _encryption(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if not s.security.encryption_key:
        return "fail", "no master key (ALERTS_ENCRYPTION_KEY)", "configure a 32-byte master key"
    try:
        ring = parse_master_keys(s.security.encryption_key)
    except ConfigError as exc:
        return "fail", f"the master key is refused: {exc.message}", "generate a new master key"
    return "pass", f"{len(ring.keys)} master key(s) configured, active {ring.active.key_id}", ""


def _audit(s: Settings, facts: Facts) -> tuple[Status, str, str]:
    if not s.security.audit_enabled:
        return "fail", "security.audit_enabled is false", "set security.audit_enabled: true"
    broken = sorted(t for t, ok in facts.chains.items() if not ok)
    if broken:
        return (
            "fail",
            f"audit chains that do not verify: {', '.join(broken)}",
            ("investigate with `core-alerts audit verify`"),
        )
    return "pass", f"audit on; {len(facts.chains)} tenant chain(s) verify", ""


def _audit_key(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if s.security.audit_key:
        return "pass", "the audit chain is an HMAC under security.audit_key", ""
    return (
        "warn",
        "no security.audit_key: the chain is plain SHA-256",
        ("set security.audit_key (32 random bytes) so database access alone cannot forge it"),
    )


def _retention(s: Settings, _: Facts) -> tuple[Status, str, str]:
    r = s.retention
    if r.resolved_days is not None:
        extra = f"; {len(r.tenants)} tenant override(s)" if r.tenants else ""
        return "pass", f"resolved alerts kept {r.resolved_days:g} days{extra}", ""
    if r.tenants:
        return (
            "warn",
            f"retention set for {len(r.tenants)} tenant(s) only",
            ("set retention.resolved_days for every other tenant"),
        )
    return (
        "fail",
        "no retention policy: resolved alerts are kept forever",
        ("set retention.resolved_days"),
    )


def _least_privilege(_: Settings, facts: Facts) -> tuple[Status, str, str]:
    live = [k for k in facts.api_keys if k.usable(facts.now)]
    risky = [k for k in live if _POWERFUL & set(k.scopes) and k.expires_at is None]
    if risky:
        names = ", ".join(f"{k.tenant_id}/{k.name}" for k in risky[:10])
        return (
            "fail",
            f"API keys with administrative scopes and no expiry: {names}",
            ("revoke them, or make keys with fewer scopes (role ingest) or an expiry"),
        )
    return "pass", f"{len(live)} usable API key(s); none administrative without expiry", ""


def _tls(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if s.compliance.tls_terminated_by:
        return "declared", f"TLS terminated by: {s.compliance.tls_terminated_by}", ""
    if _loopback(s.server.host):
        return (
            "warn",
            f"listening on {s.server.host} only; no TLS declared",
            ("put a TLS proxy in front and set compliance.tls_terminated_by"),
        )
    return (
        "fail",
        f"listening on {s.server.host} without TLS",
        ("terminate TLS in front of the service and set compliance.tls_terminated_by"),
    )


def _backups(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if s.compliance.backups:
        return "declared", f"backups: {s.compliance.backups}", ""
    return "fail", "no backup procedure declared", "back the database up; set compliance.backups"


def _durability(s: Settings, _: Facts) -> tuple[Status, str, str]:
    if s.database.backend == "postgres":
        return "pass", "PostgreSQL with synchronous_commit on (never changed by the service)", ""
    if s.database.synchronous == "FULL":
        return "pass", "SQLite WAL with synchronous=FULL: an answered write survives a crash", ""
    return (
        "warn",
        "SQLite synchronous=NORMAL: a power loss can lose answered writes",
        ("set database.synchronous: FULL"),
    )


def _privacy(s: Settings, _: Facts) -> tuple[Status, str, str]:
    p = s.privacy
    kinds = [*p.detect, *p.patterns]
    if kinds or p.tenants:
        return (
            "pass",
            f"personal data anonymised at ingestion: {', '.join(kinds) or 'per tenant'}",
            "",
        )
    return (
        "warn",
        "no anonymisation of personal data in incoming alerts",
        ("configure privacy.detect if alerts may carry personal data"),
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


CHECKS: list[tuple[str, str, Check, Control]] = [
    ("auth", "Authentication required on the API", _auth,
     Control(["CC6.1"], ["A.5.15", "A.8.5"], ["Art. 32"], ["164.312(d)"])),
    ("dev-mode", "Production mode (no ephemeral or weak keys)", _dev_mode,
     Control(["CC6.1", "CC8.1"], ["A.8.9"], ["Art. 32"], ["164.308(a)(1)"])),
    ("least-privilege", "Least privilege for API keys", _least_privilege,
     Control(["CC6.3"], ["A.5.15", "A.8.2"], ["Art. 25", "Art. 32"], ["164.308(a)(4)"])),
    ("encryption", "Field encryption master key configured", _encryption,
     Control(["CC6.7"], ["A.8.24"], ["Art. 32"], ["164.312(a)(2)(iv)"])),
    ("tls", "Encryption in transit (TLS)", _tls,
     Control(["CC6.7"], ["A.8.20", "A.8.24"], ["Art. 32"], ["164.312(e)(1)"])),
    ("audit", "Audit trail on and verifiable", _audit,
     Control(["CC7.2", "CC4.1"], ["A.8.15"], ["Art. 30", "Art. 33"], ["164.312(b)"])),
    ("audit-key", "Audit chain keyed (tamper-evident against database access)", _audit_key,
     Control(["CC7.2"], ["A.8.15"], ["Art. 32"], ["164.312(c)(1)"])),
    ("retention", "Retention of resolved alerts", _retention,
     Control(["C1.2"], ["A.5.33"], ["Art. 5(1)(e)"], ["164.316(b)(2)"])),
    ("privacy", "Personal data minimised at ingestion", _privacy,
     Control(["P4.1"], ["A.5.34"], ["Art. 5(1)(c)", "Art. 25"], ["164.514(b)"])),
    ("durability", "Answered writes survive a crash", _durability,
     Control(["A1.2", "PI1.3"], ["A.8.13"], ["Art. 32(1)(c)"], ["164.308(a)(7)"])),
    ("backups", "Backups configured", _backups,
     Control(["A1.2"], ["A.8.13"], ["Art. 32(1)(c)"], ["164.308(a)(7)(ii)(A)"])),
]  # fmt: skip


def evaluate(settings: Settings, facts: Facts) -> list[CheckResult]:
    results = []
    for check_id, title, check, control in CHECKS:
        status, evidence, remediation = check(settings, facts)
        results.append(
            CheckResult(
                id=check_id, title=title, status=status, evidence=evidence,
                remediation=remediation, controls=control,
            )
        )  # fmt: skip
    return results
