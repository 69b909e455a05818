"""The `core-alerts` console script (send, alerts ...) against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess
from tests.support.services import free_port

CLI = Path(sys.executable).parent / "core-alerts"


CREDENTIALS: dict[str, str] = {}
"""CORE_ALERTS_TOKEN of the test's server (an admin), given to every command."""


@pytest.fixture(autouse=True)
def _credentials(request: pytest.FixtureRequest) -> None:
    CREDENTIALS.clear()
    if "live_server" in request.fixturenames:
        server: ServerProcess = request.getfixturevalue("live_server")
        CREDENTIALS["CORE_ALERTS_TOKEN"] = server.token()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console script; no CORE_ALERTS_* from the caller leaks in, tables are wide."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CORE_ALERTS_")}
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "COLUMNS": "200", **CREDENTIALS, **(env or {})},
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    proc = cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def as_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(ok(*args, "--output", "json", env=env))


def test_send_from_flags_then_list_as_json(live_server: ServerProcess) -> None:
    url = live_server.url
    flags = ["--title", "disk full", "--severity", "high", "--label", "team=db", "-l", "host=db1"]
    flags += ["--annotation", "runbook=https://rb/disk"]
    sent = as_json("send", "--url", url, *flags)
    assert sent["accepted"] == 1
    assert sent["results"][0]["outcome"] == "created"
    again = as_json("send", "--url", url, *flags)
    assert again["results"][0]["outcome"] == "deduplicated"
    assert again["results"][0]["occurrences"] == 2

    page = as_json("alerts", "list", "--url", url, "--filter", 'team="db"', "--status", "firing")
    assert page["next_cursor"] is None
    [alert] = page["items"]
    assert alert["id"] == sent["results"][0]["alert_id"]
    assert (alert["title"], alert["severity"], alert["status"]) == ("disk full", "high", "firing")
    assert alert["labels"] == {"team": "db", "host": "db1"}
    assert alert["annotations"] == {"runbook": "https://rb/disk"}
    assert as_json("alerts", "list", "--url", url, "--filter", 'team="web"')["items"] == []


def test_send_prints_a_result_table(live_server: ServerProcess) -> None:
    out = ok("send", "--url", live_server.url, "--title", "t", "--dedup-key", "k1", "--resolved")
    assert "ALERT ID" in out
    assert "created" in out
    assert "resolved" in out
    assert "accepted 1" in out


def test_send_from_a_file(live_server: ServerProcess, tmp_path: Path) -> None:
    batch = tmp_path / "alerts.json"
    batch.write_text(
        json.dumps(
            [
                {"title": "a", "labels": {"alertname": "A"}, "severity": "critical"},
                {"title": "b", "labels": {"alertname": "B"}, "status": "resolved"},
            ]
        )
    )
    sent = as_json("send", "--url", live_server.url, "--file", str(batch))
    assert [(r["outcome"], r["status"]) for r in sent["results"]] == [
        ("created", "firing"),
        ("created", "resolved"),
    ]
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"title": "c", "labels": {"alertname": "C"}}))
    assert as_json("send", "--url", live_server.url, "-f", str(single))["accepted"] == 1
    items = as_json("alerts", "list", "--url", live_server.url)["items"]
    assert sorted(a["title"] for a in items) == ["a", "b", "c"]


def test_send_usage_errors_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # never contacted: the arguments are checked first
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    cases = [
        ["send", "--url", url],
        ["send", "--url", url, "--label", "no-equals-sign"],
        ["send", "--url", url, "--file", str(tmp_path / "missing.json")],
        ["send", "--url", url, "--file", str(bad_json)],
        ["send", "--url", url, "--file", str(bad_json), "--title", "x"],
        ["alerts", "list", "--url", url, "--status", "bogus"],
        ["alerts", "list", "--url", url, "--limit", "0"],
    ]
    for args in cases:
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_server_validation_error_exits_1_with_the_detail(live_server: ServerProcess) -> None:
    proc = cli("send", "--url", live_server.url, "--title", "x", "--severity", "bogus")
    assert proc.returncode == 1
    assert "unknown severity 'bogus'" in proc.stderr
    assert "422" in proc.stderr
    assert proc.stdout == ""


def test_list_pages_and_all(live_server: ServerProcess) -> None:
    url = live_server.url
    batch = [{"title": f"alert {i}", "labels": {"n": str(i)}} for i in range(7)]
    (Path(live_server.workdir) / "batch.json").write_text(json.dumps(batch))
    ok("send", "--url", url, "--file", str(Path(live_server.workdir) / "batch.json"))

    page = cli("alerts", "list", "--url", url, "--limit", "3")
    assert page.returncode == 0
    assert len([line for line in page.stdout.splitlines() if "alert " in line]) == 3
    assert "--all" in page.stderr

    first = as_json("alerts", "list", "--url", url, "--limit", "3")
    assert [a["labels"]["n"] for a in first["items"]] == ["6", "5", "4"]
    cursor = first["next_cursor"]
    rest = as_json("alerts", "list", "--url", url, "--limit", "3", "--cursor", cursor)
    assert [a["labels"]["n"] for a in rest["items"]] == ["3", "2", "1"]

    everything = as_json("alerts", "list", "--url", url, "--limit", "2", "--all")
    assert [a["labels"]["n"] for a in everything["items"]] == [str(i) for i in range(6, -1, -1)]
    assert everything["next_cursor"] is None
    table = ok("alerts", "list", "--url", url, "--all", "--limit", "2")
    assert all(a["id"] in table for a in everything["items"])


def test_show_ack_unack_resolve(live_server: ServerProcess) -> None:
    url = live_server.url
    sent = as_json("send", "--url", url, "--title", "cpu hot", "-l", "host=web1")
    alert_id = sent["results"][0]["alert_id"]

    shown = ok("alerts", "show", alert_id, "--url", url)
    assert alert_id in shown
    assert "cpu hot" in shown
    assert "History" in shown

    out = ok("alerts", "ack", alert_id, "--url", url, "--comment", "on it", "--actor", "alice")
    assert f"alert {alert_id} is now acknowledged" in out
    twice = cli("alerts", "ack", alert_id, "--url", url)
    assert twice.returncode == 1
    assert "cannot ack" in twice.stderr
    assert "409" in twice.stderr

    assert "is now firing" in ok("alerts", "unack", alert_id, "--url", url, "--actor", "carol")
    resolved = as_json("alerts", "resolve", alert_id, "--url", url, "-m", "fixed", "--actor", "bob")
    assert resolved["status"] == "resolved"

    detail = as_json("alerts", "show", alert_id, "--url", url)
    steps = [(h["to_status"], h["actor"], h["comment"]) for h in detail["history"]]
    assert steps == [  # the token's subject acts; --actor names whom for
        ("firing", "source", ""),
        ("acknowledged", "tests (alice)", "on it"),
        ("firing", "tests (carol)", ""),
        ("resolved", "tests (bob)", "fixed"),
    ]
    history = ok("alerts", "show", alert_id, "--url", url)
    assert "fixed" in history
    assert "on it" in history


def test_explain_prints_json(live_server: ServerProcess) -> None:
    sent = as_json("send", "--url", live_server.url, "--title", "x", "--dedup-key", "k")
    alert_id = sent["results"][0]["alert_id"]
    record = json.loads(ok("alerts", "explain", alert_id, "--url", live_server.url))
    assert record["alert_id"] == alert_id
    assert record["fingerprint"]["from"] == "dedup_key"


def test_unknown_id_exits_1_with_a_readable_message(live_server: ServerProcess) -> None:
    for command in ("show", "explain", "ack", "unack", "resolve"):
        proc = cli("alerts", command, "no-such-alert", "--url", live_server.url)
        assert proc.returncode == 1, command
        assert "alert no-such-alert not found" in proc.stderr
        assert "404" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""


def test_hint_when_nothing_listens() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["alerts", "list"], ["send", "--title", "x"], ["alerts", "show", "abc"]):
        proc = cli(*args, "--url", url)
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert f"is core-alerts running at {url}?" in lines[0]
        assert "start it with `core-alerts serve`" in lines[0]


def test_environment_selects_url_and_tenant(live_server: ServerProcess) -> None:
    database = {"ALERTS_DB_PATH": live_server.env["ALERTS_DB_PATH"]}
    for tenant in ("team-a", "team-b"):  # made by the CLI, in the server's own database
        assert ok("tenants", "create", tenant, env=database).strip() == f"created tenant {tenant}"
    team_a = {"CORE_ALERTS_URL": live_server.url, "CORE_ALERTS_TENANT": "team-a"}
    team_b = {**team_a, "CORE_ALERTS_TENANT": "team-b"}
    alert_id = as_json("send", "--title", "for a", env=team_a)["results"][0]["alert_id"]
    assert [a["id"] for a in as_json("alerts", "list", env=team_a)["items"]] == [alert_id]
    assert as_json("alerts", "list", env=team_b)["items"] == []
    assert cli("alerts", "show", alert_id, env=team_b).returncode == 1
    # A flag wins over the environment.
    listed = as_json("alerts", "list", "--tenant", "team-a", env=team_b)["items"]
    assert [a["id"] for a in listed] == [alert_id]


def test_tokens_and_keys_made_by_the_cli_work_against_the_server(
    live_server: ServerProcess,
) -> None:
    database = {"ALERTS_DB_PATH": live_server.env["ALERTS_DB_PATH"]}
    secret = {"ALERTS_JWT_SECRET": live_server.jwt_secret}  # the server's signing key
    url = live_server.url
    viewer = ok("tokens", "create", "--role", "viewer", "--ttl", "10m", env={**database, **secret})
    as_viewer = {"CORE_ALERTS_TOKEN": viewer.strip()}
    assert as_json("alerts", "list", "--url", url, env=as_viewer)["items"] == []
    refused = cli("send", "--url", url, "--title", "nope", env=as_viewer)
    assert refused.returncode == 1 and "alerts:write" in refused.stderr

    made = cli("keys", "create", "--name", "ci", "--role", "responder", env=database)
    assert made.returncode == 0 and "shown once" in made.stderr
    key = made.stdout.strip()
    assert key.startswith("cak_")
    as_key = {"CORE_ALERTS_TOKEN": key}
    assert as_json("send", "--url", url, "--title", "from ci", env=as_key)["accepted"] == 1
    bad = cli("keys", "create", "--name", "x", "--role", "root", env=database)
    assert bad.returncode == 2 and "unknown role" in bad.stderr
    missing = cli("tokens", "create", "--tenant", "nope", env={**database, **secret})
    assert missing.returncode == 1 and "does not exist" in missing.stderr
