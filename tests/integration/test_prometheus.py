"""A real Prometheus sends alerts to core-alerts (and to a real Alertmanager as the oracle).

A tiny HTTP server in the test exposes `test_switch`; the rule fires while it is 1. The test
checks the alert reaches both APIs with Prometheus' labels and rendered annotations, has the
fingerprint a real Alertmanager computes for the same alert, and resolves when switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration._helpers import (
    ExternalProcess,
    SwitchServer,
    alerts_v2,
    all_alerts_v1,
    real_alertmanager,
    wait_for,
    wait_http_ok,
)
from tests.support.server import ServerProcess
from tests.support.services import free_port, need_binary

pytestmark = pytest.mark.integration

RULES = {
    "groups": [
        {
            "name": "core-alerts-test",
            "interval": "1s",
            "rules": [
                {
                    "alert": "TestAlwaysFiring",
                    "expr": "test_switch == 1",
                    "labels": {"severity": "critical", "team": "qa"},
                    "annotations": {
                        "summary": "test switch is on (job {{ $labels.job }})",
                        "description": "value {{ $value }}",
                    },
                }
            ],
        }
    ]
}
ALERT = "TestAlwaysFiring"


BASIC_TENANT = "via-basic-auth"


def _prometheus_config(
    switch_port: int, core: str, am: str, rules: Path, keys: tuple[str, str]
) -> dict[str, Any]:
    """Prometheus sends to core-alerts twice, once per way its http_config authenticates
    (bearer credentials into the default tenant, basic_auth into another), and to the oracle."""
    bearer, basic = keys
    targets = [{"targets": [core]}]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules)],
        "alerting": {
            "alertmanagers": [
                {
                    "api_version": "v2",
                    "static_configs": targets,
                    "authorization": {"type": "Bearer", "credentials": bearer},
                },
                {
                    "api_version": "v2",
                    "static_configs": targets,
                    "basic_auth": {"username": "prometheus", "password": basic},
                },
                {"api_version": "v2", "static_configs": [{"targets": [am]}]},
            ]
        },
        "scrape_configs": [
            {"job_name": "switch", "static_configs": [{"targets": [f"127.0.0.1:{switch_port}"]}]}
        ],
    }


def _ours(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"].get("alertname") == ALERT]


def _prometheus_firing(prom_url: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{prom_url}/api/v1/alerts", timeout=5)
    resp.raise_for_status()
    return [
        a
        for a in resp.json()["data"]["alerts"]
        if a["labels"].get("alertname") == ALERT and a["state"] == "firing"
    ]


def test_prometheus_alert_fires_and_resolves(tmp_path: Path) -> None:
    prometheus = need_binary("prometheus")
    alertmanager = need_binary("prometheus-alertmanager")
    (tmp_path / "core").mkdir()
    server = ServerProcess(tmp_path / "core").start()
    try:
        keys = _ingest_keys(server)
        with (
            SwitchServer(1) as switch,
            real_alertmanager(alertmanager, tmp_path / "am") as am_url,
        ):
            rules = tmp_path / "rules.yml"
            rules.write_text(yaml.safe_dump(RULES))
            am_target = am_url.removeprefix("http://")
            config = tmp_path / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    _prometheus_config(
                        switch.port, f"127.0.0.1:{server.port}", am_target, rules, keys
                    )
                )
            )
            prom_port = free_port()
            prom_url = f"http://127.0.0.1:{prom_port}"
            prom = ExternalProcess(
                "prometheus",
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=1s",
                ],
                tmp_path,
            ).start()
            try:
                wait_http_ok(prom, f"{prom_url}/-/ready")
                _check_firing(server, am_url, prom_url, prom)
                switch.value = 0
                _check_resolved(server, prom)
            finally:
                prom.stop()
    finally:
        server.stop()


def _ingest_keys(server: ServerProcess) -> tuple[str, str]:
    """An ingest-only key in the default tenant, and one in BASIC_TENANT."""
    made = httpx.post(
        f"{server.url}/api/v1/tenants", json={"id": BASIC_TENANT}, headers=server.headers
    )
    assert made.status_code == 201, made.text
    keys = []
    for tenant in ("default", BASIC_TENANT):
        resp = httpx.post(
            f"{server.url}/api/v1/keys",
            json={"name": "prometheus", "role": "ingest"},
            headers={**server.headers, "X-Tenant-ID": tenant},
        )
        assert resp.status_code == 201, resp.text
        keys.append(resp.json()["key"])
    return keys[0], keys[1]


def _check_firing(server: ServerProcess, am_url: str, prom_url: str, prom: ExternalProcess) -> None:
    core_url, auth = server.url, server.headers
    basic = {**auth, "X-Tenant-ID": BASIC_TENANT}

    def firing_everywhere() -> tuple[Any, ...] | None:
        prom.check_alive()
        fired = _prometheus_firing(prom_url)
        v2 = _ours(alerts_v2(core_url, headers=auth))
        am = _ours(alerts_v2(am_url))
        v1 = [a for a in _ours(all_alerts_v1(core_url, headers=auth)) if a["status"] == "firing"]
        via_basic = _ours(alerts_v2(core_url, headers=basic))
        if fired and v2 and am and v1 and via_basic:
            return fired, v2, am, v1, via_basic
        return None

    fired, v2, am, v1, via_basic = wait_for(
        firing_everywhere, f"{ALERT} in Prometheus, Alertmanager and core-alerts (both tenants)"
    )
    assert len(fired) == len(v2) == len(am) == len(v1) == len(via_basic) == 1
    assert via_basic[0]["fingerprint"] == v2[0]["fingerprint"]  # same alert, other tenant
    prom_alert, ours, oracle, native = fired[0], v2[0], am[0], v1[0]

    # Labels: exactly what Prometheus itself reports (rule labels + the series' job/instance).
    assert ours["labels"] == prom_alert["labels"]
    assert ours["labels"]["severity"] == "critical"
    assert ours["labels"]["team"] == "qa"
    assert ours["labels"]["job"] == "switch"
    # Annotations as Prometheus rendered them.
    assert ours["annotations"] == prom_alert["annotations"]
    assert ours["annotations"]["summary"] == "test switch is on (job switch)"
    # Same fingerprint as a real Alertmanager computed for the same alert.
    assert ours["labels"] == oracle["labels"]
    assert ours["fingerprint"] == oracle["fingerprint"]
    assert ours["status"]["state"] == "active"
    assert "/graph?g0.expr=" in ours["generatorURL"]

    # The native view of the same alert.
    assert native["fingerprint"] == ours["fingerprint"]
    assert native["labels"] == ours["labels"]
    assert native["annotations"] == ours["annotations"]
    assert native["severity"] == "critical"
    assert native["title"] == "test switch is on (job switch)"
    assert native["source"] == "alertmanager"


def _check_resolved(server: ServerProcess, prom: ExternalProcess) -> None:
    core_url, auth = server.url, server.headers

    def resolved() -> list[dict[str, Any]] | None:
        prom.check_alive()
        if _ours(alerts_v2(core_url, headers=auth)):
            return None
        done = [
            a for a in _ours(all_alerts_v1(core_url, headers=auth)) if a["status"] == "resolved"
        ]
        return done or None

    done = wait_for(resolved, f"{ALERT} resolved in core-alerts after the switch went to 0")
    everything = _ours(all_alerts_v1(core_url, headers=auth))
    assert len(everything) == 1, everything
    assert done[0]["ends_at"] is not None
