"""Personal data in incoming alerts is anonymised before it is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings
from core_alerts.domain.clock import FixedClock
from core_alerts.domain.errors import ConfigError

V2_BODY = (
    b'[{"labels": {"alertname": "Login", "user": "ann@example.com"},'
    b' "annotations": {"summary": "failed logins for ann@example.com from 10.1.2.3",'
    b' "description": "client fe80::1:2 / 2001:db8::7 badge=EMP-00421"}}]'
)


async def _stored(tmp_path: Path, privacy: dict[str, Any], tenant: str = "default") -> Any:
    settings = load_settings(
        {"database": {"sqlite_path": str(tmp_path / "p.db")}, "privacy": privacy}, environ={}
    )
    orch = EngineOrchestrator(settings=settings, clock=FixedClock(1_800_000_000.0))
    await orch.start_all()
    try:
        [result] = await orch.alert_engine.ingest_payload("alertmanager", V2_BODY, tenant_id=tenant)
        record = await orch.store.get(tenant, result.alert_id)
        again = await orch.alert_engine.ingest_payload("alertmanager", V2_BODY, tenant_id=tenant)
        assert again[0].alert_id == result.alert_id  # the same alert still deduplicates
        return record
    finally:
        await orch.stop_all()


async def test_built_in_kinds_and_patterns_become_stable_pseudonyms(tmp_path: Path) -> None:
    rec = await _stored(
        tmp_path,
        {"detect": ["email", "ipv4", "ipv6"], "patterns": {"badge": r"EMP-\d{5}"},
         "pseudonym_key": "k" * 32},
    )  # fmt: skip
    summary = rec.annotations["summary"]
    assert "ann@example.com" not in summary and "10.1.2.3" not in summary
    assert summary.startswith("failed logins for <email:") and "from <ipv4:" in summary
    description = rec.annotations["description"]
    assert "fe80::1:2" not in description and "2001:db8::7" not in description
    assert description.count("<ipv6:") == 2 and "badge=<badge:" in description
    assert rec.title == summary  # the title comes from the anonymised summary
    assert rec.labels["user"] == "ann@example.com"  # labels are kept unless listed in fields


async def test_labels_too_when_asked_and_plain_redaction_without_a_key(tmp_path: Path) -> None:
    rec = await _stored(tmp_path, {"detect": ["email"], "fields": ["labels", "annotations"]})
    assert rec.labels["user"] == "<email>"
    assert rec.annotations["summary"] == "failed logins for <email> from 10.1.2.3"


async def test_per_tenant_rules_replace_the_global_ones(tmp_path: Path) -> None:
    privacy = {"detect": ["email"], "tenants": {"acme": {"detect": ["ipv4"]}}}
    rec = await _stored(tmp_path, privacy, tenant="acme")
    assert rec.annotations["summary"] == "failed logins for ann@example.com from <ipv4>"


def test_a_bad_pattern_fails_at_start_naming_it() -> None:
    settings = load_settings({"privacy": {"patterns": {"bad": "(unclosed"}}}, environ={})
    with pytest.raises(ConfigError, match=r"privacy.patterns.bad: invalid RE2 pattern"):
        EngineOrchestrator(settings=settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 12:30:45 on host a", "at 12:30:45 on host a"),  # a time is not an address
        ("mac aa:bb:cc:dd:ee:ff", "mac aa:bb:cc:dd:ee:ff"),
        ("v6 ::1 and fe80::1%eth0", "v6 <ipv6> and <ipv6>"),
        ("v4 999.1.1.1 and 1.2.3.4", "v4 999.1.1.1 and <ipv4>"),
        ("ver 1.2.3.4.5", "ver 1.2.3.4.5"),  # a version, not an address
        ("to a.b+c@mail.example.org.", "to <email>."),
    ],
)
def test_detectors_replace_addresses_and_leave_look_alikes(text: str, expected: str) -> None:
    from core_alerts.config.settings import PrivacySettings
    from core_alerts.ingest.privacy import build_anonymisers

    anon = build_anonymisers(PrivacySettings(detect=["email", "ipv4", "ipv6"]))("default")
    assert anon is not None
    assert anon.text(text) == expected


def test_values_under_name_keys_are_replaced_whole_with_a_stable_pseudonym() -> None:
    from core_alerts.config.settings import PrivacySettings
    from core_alerts.ingest.privacy import build_anonymisers

    anon = build_anonymisers(PrivacySettings(name_keys=["User", "owner"], pseudonym_key="p" * 32))(
        "default"
    )
    assert anon is not None
    out = anon.pairs({"user": "Ann Smith", "Owner": "bob", "team": "db", "empty": ""})
    assert out["user"].startswith("<name:") and out["Owner"].startswith("<name:")
    assert out["team"] == "db" and out["empty"] == ""
    assert anon.pairs({"user": "Ann Smith"})["user"] == out["user"]  # stable: dedup still works
    plain = build_anonymisers(PrivacySettings(name_keys=["user"]))("default")
    assert plain is not None and plain.pairs({"user": "Ann"}) == {"user": "<name>"}
