"""GDPR requests over the API: export everything about a subject, erase it, and the audit
trail stays verifiable."""

from __future__ import annotations

import hashlib

import httpx


async def test_export_then_erase_a_subject(api: httpx.AsyncClient) -> None:
    acme = {"X-Tenant-ID": "acme"}
    ann = [
        {"title": "login failures", "labels": {"user": "ann@example.com"}},
        {"title": "quota", "annotations": {"note": "owner ann@example.com"}},
    ]
    kept = {"title": "disk", "labels": {"host": "db1"}}
    sent = (await api.post("/api/v1/alerts", json=[*ann, kept], headers=acme)).json()
    ann_ids = sorted(r["alert_id"] for r in sent["results"][:2])
    await api.post(f"/api/v1/alerts/{ann_ids[0]}/ack", headers=acme)
    other = await api.post("/api/v1/alerts", json=ann[0], headers={"X-Tenant-ID": "beta"})
    assert other.status_code == 200

    exported = await api.post("/api/v1/privacy/export", json={"subject": "ann@example.com"},
                              headers=acme)  # fmt: skip
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    body = exported.json()
    assert sorted(a["alert"]["id"] for a in body["alerts"]) == ann_ids
    acked = next(a for a in body["alerts"] if a["alert"]["id"] == ann_ids[0])
    assert [t["to_status"] for t in acked["history"]] == ["firing", "acknowledged"]
    assert body["tenant_id"] == "acme" and body["audit_entries"] == []  # ann never acted

    erased = await api.post("/api/v1/privacy/erase", json={"subject": "ann@example.com"},
                            headers=acme)  # fmt: skip
    assert erased.json() == {"alerts_deleted": 2}
    for alert_id in ann_ids:
        assert (await api.get(f"/api/v1/alerts/{alert_id}", headers=acme)).status_code == 404
    remaining = (await api.get("/api/v1/alerts", headers=acme)).json()["items"]
    assert [a["title"] for a in remaining] == ["disk"]
    beta = (await api.get("/api/v1/alerts", headers={"X-Tenant-ID": "beta"})).json()["items"]
    assert len(beta) == 1  # another tenant's data is not touched

    audit = (await api.get("/api/v1/audit", params={"action": "privacy"}, headers=acme)).json()
    [entry] = audit["entries"]
    digest = hashlib.sha256(b"ann@example.com").hexdigest()
    assert entry["details"] == {"subject_sha256": digest, "alerts_deleted": 2}
    assert "ann@example.com" not in str(audit)
    verified = await api.get("/api/v1/audit/verify", headers=acme)
    assert verified.status_code == 200 and verified.json()["ok"] is True


async def test_a_too_short_subject_is_refused(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/privacy/erase", json={"subject": "a"})
    assert r.status_code == 422
