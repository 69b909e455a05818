"""amtool (Alertmanager's CLI) against core-alerts, and a real Alertmanager 0.25 as the oracle.

The same alerts are posted to both systems; each alert must get the same fingerprint (and the
same label set) in both systems' GET /api/v2/alerts.
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration._helpers import alerts_v2, all_alerts_v1, post_v2, real_alertmanager
from tests.support.server import ServerProcess
from tests.support.services import need_binary

pytestmark = pytest.mark.integration


HTTP_CONFIG: dict[str, Path] = {}
"""amtool's --http.config.file per core-alerts URL (the oracle needs none)."""
AUTH: dict[str, dict[str, str]] = {}
"""Authorization headers per core-alerts URL, for the API reads and writes of the tests."""


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("core")
    server = ServerProcess(workdir).start()
    try:
        key = _responder_key(server)
        HTTP_CONFIG[server.url] = _http_config(
            workdir / "bearer.yml", {"authorization": {"credentials": key}}
        )
        _http_config(workdir / "basic.yml", {"basic_auth": {"username": "amtool", "password": key}})
        AUTH[server.url] = server.headers
        yield server
    finally:
        server.stop()


def _responder_key(server: ServerProcess) -> str:
    resp = httpx.post(
        f"{server.url}/api/v1/keys",
        json={"name": "amtool", "role": "responder"},
        headers=server.headers,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    key: str = resp.json()["key"]
    return key


def _http_config(path: Path, config: dict[str, Any]) -> Path:
    """amtool's http_config file (the same format as Prometheus' http_config)."""
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = need_binary("prometheus-alertmanager")
    with real_alertmanager(binary, tmp_path_factory.mktemp("alertmanager")) as url:
        yield url


def run_amtool(
    url: str, *args: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    binary = need_binary("amtool")
    config = config or HTTP_CONFIG.get(url)
    flags = [f"--http.config.file={config}"] if config else []
    return subprocess.run(
        [binary, f"--alertmanager.url={url}", *flags, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def amtool(url: str, *args: str, config: Path | None = None) -> str:
    proc = run_amtool(url, *args, config=config)
    assert proc.returncode == 0, f"amtool {' '.join(args)}: {proc.returncode}\n{proc.stderr}"
    return proc.stdout


def by_name(alerts: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"].get("alertname") == name]


def test_amtool_add_and_query_agree_with_the_api(core: ServerProcess, oracle: str) -> None:
    name = "AmtoolX"
    for url in (core.url, oracle):
        amtool(url, "alert", "add", f"alertname={name}", "team=db", "--annotation=summary=hi")

    queried = by_name(json.loads(amtool(core.url, "alert", "query", "-o", "json")), name)
    assert len(queried) == 1, queried
    got = queried[0]
    assert got["labels"] == {"alertname": name, "team": "db"}
    assert got["annotations"] == {"summary": "hi"}
    assert got["status"]["state"] == "active"

    # amtool's view equals the HTTP APIs' view.
    v2 = by_name(alerts_v2(core.url, headers=core.headers), name)
    assert len(v2) == 1
    assert v2[0]["fingerprint"] == got["fingerprint"]
    assert v2[0]["labels"] == got["labels"]
    assert v2[0]["annotations"] == got["annotations"]
    v1 = by_name(all_alerts_v1(core.url, headers=core.headers), name)
    assert len(v1) == 1
    assert v1[0]["fingerprint"] == got["fingerprint"]
    assert v1[0]["labels"] == got["labels"]
    assert v1[0]["annotations"] == got["annotations"]
    assert v1[0]["status"] == "firing"
    assert v1[0]["title"] == "hi"

    # The same command against a real Alertmanager yields the same fingerprint.
    theirs = by_name(json.loads(amtool(oracle, "alert", "query", "-o", "json")), name)
    assert [a["fingerprint"] for a in theirs] == [got["fingerprint"]]
    assert theirs[0]["labels"] == got["labels"]

    # A matcher query, in amtool's simple and extended output formats.
    simple = amtool(core.url, "alert", "query", f"alertname={name}").splitlines()
    assert simple[0].split()[:2] == ["Alertname", "Starts"], simple
    rows = [line.split() for line in simple[1:] if line.strip()]
    assert len(rows) == 1, simple
    assert rows[0][0] == name
    assert "hi" in rows[0]
    assert rows[0][-1] == "active"
    extended = amtool(core.url, "alert", "query", "-o", "extended", f"alertname={name}")
    assert f'alertname="{name}" team="db"' in extended
    assert 'summary="hi"' in extended
    assert amtool(core.url, "alert", "query", "alertname=NoSuchAlert").strip().count("\n") == 0


MANY = {f"label_{i:02d}": f"value {i}" for i in range(60)}

# (case id, labels): `case` is added to every set so both systems' copies can be paired up.
LABEL_SETS: list[tuple[str, dict[str, str]]] = [
    ("simple", {"alertname": "Simple"}),
    (
        "prometheus_like",
        {
            "alertname": "HighCPU",
            "instance": "10.0.0.1:9100",
            "job": "node",
            "severity": "critical",
        },
    ),
    ("german", {"alertname": "Unicode", "value": "Grüße aus Köln"}),
    ("cjk", {"alertname": "Unicode", "value": "日本語のアラート"}),
    ("emoji", {"alertname": "Unicode", "value": "🔥 disk 💾 full"}),
    ("rtl", {"alertname": "Unicode", "value": "مرحبا بالعالم"}),
    ("bidi_override", {"alertname": "Unicode", "value": "abc\u202edef"}),
    ("homoglyph", {"alertname": "Unicode", "user": "аdmin"}),  # Cyrillic а
    ("empty_value", {"alertname": "Empty", "extra": ""}),
    ("only_empty_extra", {"alertname": "Empty2", "a": "", "b": "", "c": "x"}),
    ("many_labels", {"alertname": "Many", **MANY}),
    ("long_value", {"alertname": "Long", "value": "x" * 4000}),
    (
        "special_chars",
        {"alertname": "Special", "value": 'quote" backslash\\ =,{} \n\t end'},
    ),
    ("control_char", {"alertname": "Control", "value": "bell\x07 esc\x1b"}),
    ("whitespace", {"alertname": "Spaces", "value": "  padded  "}),
    ("numeric", {"alertname": "Numeric", "value": "007", "n": "1e10"}),
    ("case_sensitive", {"alertname": "case", "Alertname": "CASE"}),
    ("underscore_names", {"alertname": "Under", "_private": "1", "__reserved": "2", "a1": "3"}),
    ("no_alertname", {"service": "api", "env": "prod"}),
    ("sort_order", {"b": "2", "a": "1", "C": "3", "_": "0", "aa": "11"}),
    ("separator_lookalike", {"alertname": "Sep", "value": "a\u00ffb"}),
]


def _by_case(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["labels"]["case"]: a for a in alerts if "case" in a["labels"]}


def test_fingerprints_equal_a_real_alertmanagers(core: ServerProcess, oracle: str) -> None:
    alerts = [
        {"labels": {**labels, "case": case}, "annotations": {"summary": f"case {case}"}}
        for case, labels in LABEL_SETS
    ]
    post_v2(oracle, alerts)
    post_v2(core.url, alerts, headers=core.headers)

    theirs = _by_case(alerts_v2(oracle))
    ours = _by_case(alerts_v2(core.url, headers=core.headers))
    cases = [case for case, _ in LABEL_SETS]
    assert sorted(theirs) == sorted(cases)
    assert sorted(ours) == sorted(cases)
    mismatches = [
        f"{case}: ours {ours[case]['fingerprint']} {ours[case]['labels']!r}, "
        f"Alertmanager {theirs[case]['fingerprint']} {theirs[case]['labels']!r}"
        for case in cases
        if (ours[case]["fingerprint"], ours[case]["labels"])
        != (theirs[case]["fingerprint"], theirs[case]["labels"])
    ]
    assert not mismatches, "\n".join(mismatches)

    # The native API shows the same identity.
    native = _by_case(all_alerts_v1(core.url, headers=core.headers))
    for case in cases:
        assert native[case]["fingerprint"] == ours[case]["fingerprint"], case


def test_decomposed_unicode_keeps_alertmanagers_identity(core: ServerProcess, oracle: str) -> None:
    """Label bytes are hashed as sent, as Alertmanager does: an NFD value and its NFC form
    are two alerts in both systems, each with the same fingerprint in both."""
    decomposed = {"alertname": "Nfd", "case": "nfd", "value": "cafe\u0301"}
    composed = {**decomposed, "case": "nfc", "value": unicodedata.normalize("NFC", "cafe\u0301")}
    for url in (core.url, oracle):
        post_v2(url, headers=AUTH.get(url), alerts=[{"labels": decomposed}, {"labels": composed}])
    ours = _by_case(alerts_v2(core.url, headers=core.headers))
    theirs = _by_case(alerts_v2(oracle))
    assert ours["nfd"]["labels"]["value"] == "cafe\u0301"
    for case in ("nfd", "nfc"):
        assert ours[case]["fingerprint"] == theirs[case]["fingerprint"]


def test_amtool_authenticates_with_basic_auth_and_is_refused_without_credentials(
    core: ServerProcess, tmp_path: Path
) -> None:
    basic = HTTP_CONFIG[core.url].with_name("basic.yml")
    amtool(core.url, "alert", "add", "alertname=AmtoolBasic", "team=ops", config=basic)
    listed = json.loads(amtool(core.url, "alert", "query", "-o", "json", config=basic))
    assert [a["labels"]["team"] for a in by_name(listed, "AmtoolBasic")] == ["ops"]
    wrong = _http_config(
        tmp_path / "wrong.yml", {"authorization": {"credentials": "cak_0000000000000000_nope"}}
    )
    empty = _http_config(tmp_path / "none.yml", {})
    for config in (wrong, empty):
        refused = run_amtool(core.url, "alert", "add", "alertname=AmtoolNoAuth", config=config)
        assert refused.returncode != 0
        assert "401" in refused.stderr or "nauthorized" in refused.stderr, refused.stderr
    assert by_name(alerts_v2(core.url, headers=core.headers), "AmtoolNoAuth") == []
