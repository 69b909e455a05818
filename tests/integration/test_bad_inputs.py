"""The bad-input catalogue (reliability plan b.3) against a live server.

Every hostile or malformed request must get the right 4xx as `application/problem+json` with
a `detail`, change nothing (the alert count is the same before and after), and leave the
server serving. /api/v1 answers 422 for well-formed but invalid values; /api/v2 answers 400
for any invalid alert, as Alertmanager does; both answer 413 for size and batch limits.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration._helpers import all_alerts_v1
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

V1 = "/api/v1/alerts"
V2 = "/api/v2/alerts"
MIB = 1 << 20
DEPTH = 100_000
PROBLEM = "application/problem+json"


AUTH: dict[str, str] = {}
"""The admin's Authorization header, set by the `server` fixture; every request sends it."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("bad-inputs")).start()
    AUTH.update(proc.headers)
    made = httpx.post(f"{proc.url}/api/v1/tenants", json={"id": "x"}, headers=AUTH, timeout=10)
    assert made.status_code == 201, made.text
    try:
        yield proc
    finally:
        proc.stop()


@dataclass(frozen=True)
class Case:
    """One request: body bytes (or a factory, for big ones) and headers; the expected status."""

    status: int
    path: str = V1
    body: bytes | Callable[[], bytes] | None = None
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    chunked: bool = False

    def payload(self) -> bytes | None:
        return self.body() if callable(self.body) else self.body


def j(value: Any) -> bytes:
    return json.dumps(value).encode()


def one(**fields: Any) -> bytes:
    """A valid native alert with some fields replaced."""
    return j({"title": "bad-input", "labels": {"alertname": "BadInput"}, **fields})


def am(**fields: Any) -> bytes:
    """A valid Alertmanager batch of one alert with some fields replaced."""
    return j([{"labels": {"alertname": "BadInput"}, **fields}])


def gzip_bomb() -> bytes:
    """~10 KB of gzip that inflates to 10 MiB (ten times the body limit)."""
    return gzip.compress(b"\x00" * (10 * MIB), 9)


def chunks_of_10_mib() -> Iterator[bytes]:
    for _ in range(160):
        yield b" " * 65536


def nested(open_: bytes, close: bytes, leaf: bytes = b"") -> bytes:
    return open_ * DEPTH + leaf + close * DEPTH


BIG_INT = str(2**64).encode()
TOO_MANY = 10_001  # limits.max_alerts_per_request is 10000

CASES: dict[str, Case] = {
    # 1. Truncated JSON -> 400 on both APIs.
    "truncated-v1": Case(400, V1, b'{"a":'),
    "truncated-v1-known-field": Case(400, V1, b'{"title": "x", "labels": {"a":'),
    "truncated-v2": Case(400, V2, b'[{"labels": {"alertname": "x"}'),
    "empty-body-v1": Case(400, V1, b""),
    "empty-body-v2": Case(400, V2, b""),
    # 2. Not JSON by media type -> 415.
    "text-plain-v1": Case(415, V1, one(), content_type="text/plain"),
    "text-plain-v2": Case(415, V2, am(), content_type="text/plain"),
    "form-urlencoded-v2": Case(
        415, V2, b"labels=x", content_type="application/x-www-form-urlencoded"
    ),
    # 3. Bodies over the 1 MiB limit -> 413, declared or streamed (chunked).
    "10-mib-body-v1": Case(413, V1, lambda: b" " * (10 * MIB)),
    "10-mib-chunked-v2": Case(413, V2, chunked=True),
    # 4. Gzip: the limit applies after decompression; corrupt or unknown encodings are refused.
    "gzip-bomb-v1": Case(413, V1, gzip_bomb, headers={"Content-Encoding": "gzip"}),
    "gzip-bomb-v2": Case(413, V2, gzip_bomb, headers={"Content-Encoding": "gzip"}),
    "gzip-corrupt-v2": Case(400, V2, b"not gzip at all", headers={"Content-Encoding": "gzip"}),
    "encoding-br-v2": Case(415, V2, am(), headers={"Content-Encoding": "br"}),
    # 5. 100k-deep nesting: never a RecursionError 500.
    "deep-array-in-unknown-field-v2": Case(
        400, V2, lambda: b'[{"labels": {"alertname": "x"}, "x": ' + nested(b"[", b"]") + b"}]"
    ),
    "deep-object-in-unknown-field-v2": Case(
        400,
        V2,
        lambda: b'[{"labels": {"alertname": "x"}, "x": ' + nested(b'{"a":', b"}", b"1") + b"}]",
    ),
    "deep-array-top-level-v2": Case(400, V2, lambda: nested(b"[", b"]")),
    # Catalogue 5: nesting beyond what any alert needs is unparseable input, 400, even where
    # a type error would be found first.
    "deep-array-top-level-v1": Case(400, V1, lambda: nested(b"[", b"]")),
    "deep-object-in-labels-v1": Case(
        400, V1, lambda: b'{"labels": ' + nested(b'{"a":', b"}", b'"1"') + b"}"
    ),
    # 6. A batch above max_alerts_per_request -> 413.
    "batch-over-limit-v1": Case(413, V1, lambda: j([{"title": f"t{i}"} for i in range(TOO_MANY)])),
    "batch-over-limit-v2": Case(
        413, V2, lambda: j([{"labels": {"alertname": str(i)}} for i in range(TOO_MANY)])
    ),
    # 8. NaN / Infinity are not JSON (400); 1e400 is JSON but out of range (422 / 400).
    "nan-v1": Case(400, V1, b'{"title": NaN}'),
    "infinity-v2": Case(400, V2, b'[{"labels": {"alertname": Infinity}}]'),
    "minus-infinity-v1": Case(400, V1, b'{"title": "x", "severity": -Infinity}'),
    "1e400-v1": Case(422, V1, b'{"title": 1e400}'),
    "1e400-v2": Case(400, V2, b'[{"labels": {"alertname": 1e400}}]'),
    # 9. Integers above 2^63 where a string is expected.
    "big-int-title-v1": Case(422, V1, b'{"title": ' + BIG_INT + b"}"),
    "big-int-severity-v1": Case(422, V1, b'{"title": "x", "severity": ' + BIG_INT + b"}"),
    "big-int-label-v2": Case(400, V2, b'[{"labels": {"alertname": ' + BIG_INT + b"}}]"),
    # 10. Invalid UTF-8 -> 400.
    "invalid-utf8-v1": Case(400, V1, b'{"title": "\xff"}'),
    "invalid-utf8-v2": Case(400, V2, b'[{"labels": {"alertname": "\xff\xfe"}}]'),
    "overlong-utf8-v1": Case(400, V1, b'{"title": "x", "labels": {"a": "\xc0\xaf"}}'),
    # 11. NUL characters: no backend can store them -> 422 / 400.
    "nul-in-label-value-v1": Case(422, V1, one(labels={"alertname": "a\u0000b"})),
    "nul-in-label-name-v1": Case(422, V1, one(labels={"a\u0000b": "x"})),
    "nul-in-title-v1": Case(422, V1, one(title="x\u0000")),
    "nul-in-label-value-v2": Case(400, V2, am(labels={"alertname": "a\u0000b"})),
    # 12. Lone surrogates: well-formed JSON escapes, invalid Unicode -> 422 / 400.
    "lone-surrogate-v1": Case(422, V1, b'{"title": "x", "labels": {"a": "\\ud800"}}'),
    "lone-low-surrogate-v1": Case(422, V1, b'{"title": "\\udc00"}'),
    "lone-surrogate-v2": Case(400, V2, b'[{"labels": {"alertname": "\\ud800"}}]'),
    # 14. Size limits inside one alert -> 422 / 400.
    "1mb-label-value-v1": Case(422, V1, lambda: one(labels={"a": "x" * 1_000_000})),
    "1mb-label-value-v2": Case(400, V2, lambda: am(labels={"alertname": "x" * 1_000_000})),
    "10k-labels-v1": Case(422, V1, lambda: one(labels={f"l{i}": "x" for i in range(10_000)})),
    "10k-labels-v2": Case(400, V2, lambda: am(labels={f"l{i}": "x" for i in range(10_000)})),
    "10k-annotations-v2": Case(
        400, V2, lambda: am(annotations={f"a{i}": "x" for i in range(10_000)})
    ),
    "dedup-key-256-v1": Case(422, V1, one(dedup_key="k" * 256)),
    "dedup-key-empty-v1": Case(422, V1, one(dedup_key="")),
    "title-too-long-v1": Case(422, V1, lambda: one(title="t" * 20_000)),
    "long-label-name-v1": Case(422, V1, one(labels={"n" * 300: "x"})),
    # 15. Bad times.
    "month-13-v1": Case(422, V1, one(starts_at="2024-13-45T00:00:00Z")),
    "month-13-v2": Case(400, V2, am(startsAt="2024-13-45T00:00:00Z")),
    "naive-datetime-v1": Case(422, V1, one(starts_at="2024-01-01T00:00:00")),
    "naive-datetime-v2": Case(400, V2, am(startsAt="2024-01-01T00:00:00")),
    "starts-after-ends-v1": Case(
        422, V1, one(starts_at="2024-01-02T00:00:00Z", ends_at="2024-01-01T00:00:00Z")
    ),
    "starts-after-ends-v2": Case(
        400, V2, am(startsAt="2024-01-02T00:00:00Z", endsAt="2024-01-01T00:00:00Z")
    ),
    "epoch-ms-number-v1": Case(422, V1, one(starts_at=1_700_000_000_000)),
    "words-for-time-v2": Case(400, V2, am(endsAt="yesterday")),
    # 16. Severity and status outside the enums (v1 is strict).
    "unknown-severity-v1": Case(422, V1, one(severity="bogus")),
    "numeric-severity-v1": Case(422, V1, one(severity=3)),
    "unknown-status-v1": Case(422, V1, one(status="exploded")),
    # API3: fields the client must not set.
    "unknown-field-tenant-id-v1": Case(422, V1, one(tenant_id="other-tenant")),
    "unknown-field-id-v1": Case(422, V1, one(id="0123456789abcdef")),
    "unknown-field-in-batch-item-v1": Case(
        422, V1, j([{"title": "ok-1"}, {"title": "ok-2", "created_by": "admin"}])
    ),
    # Shapes.
    "null-v1": Case(422, V1, b"null"),
    "null-v2": Case(400, V2, b"null"),
    "object-instead-of-list-v2": Case(400, V2, j({"labels": {"alertname": "x"}})),
    "labels-as-list-v1": Case(422, V1, one(labels=["a", "b"])),
    "no-labels-no-title-v1": Case(422, V1, j({})),
    "empty-label-name-v1": Case(422, V1, one(labels={"": "x"})),
    "empty-label-set-v2": Case(400, V2, am(labels={})),
    "only-empty-label-values-v2": Case(400, V2, am(labels={"alertname": "", "team": ""})),
    "label-name-with-dot-v2": Case(400, V2, am(labels={"foo.bar": "x"})),
    "label-name-leading-digit-v2": Case(400, V2, am(labels={"1abc": "x"})),
    "label-name-dash-v2": Case(400, V2, am(labels={"a-b": "x"})),
    # All or nothing: one bad alert rejects the whole batch.
    "batch-last-alert-bad-v1": Case(
        422,
        V1,
        j([{"title": "batch-ok-1"}, {"title": "batch-ok-2"}, {"title": "x", "severity": "?"}]),
    ),
    "batch-middle-alert-bad-v2": Case(
        400,
        V2,
        j(
            [
                {"labels": {"alertname": "batch-ok-1"}},
                {"labels": {"bad name": "x"}},
                {"labels": {"alertname": "batch-ok-3"}},
            ]
        ),
    ),
    # 33. BOM and trailing garbage -> 400.
    "bom-v1": Case(400, V1, b"\xef\xbb\xbf" + one()),
    "bom-v2": Case(400, V2, b"\xef\xbb\xbf" + am()),
    "trailing-garbage-v1": Case(400, V1, one() + b" garbage"),
    "trailing-garbage-v2": Case(400, V2, am() + b"]"),
    "two-documents-v1": Case(400, V1, one() + one()),
    # Tenant header with characters outside [A-Za-z0-9_.-] or too long -> 422.
    "tenant-header-traversal-v1": Case(422, V1, one(), headers={"X-Tenant-ID": "../evil"}),
    "tenant-header-sql-v2": Case(422, V2, am(), headers={"X-Tenant-ID": "t' OR '1'='1"}),
    "tenant-header-too-long-v1": Case(422, V1, one(), headers={"X-Tenant-ID": "a" * 65}),
    # 24. SQL-ish matchers: a parse error, not a query.
    "sql-filter-v1": Case(422, f"{V1}?filter=%27%20OR%201%3D1--", method="GET"),
    "sql-filter-tenant-v1": Case(
        422, f"{V1}?filter=%27%20OR%201%3D1--", method="GET", headers={"X-Tenant-ID": "x"}
    ),
    # Alertmanager answers 400 for a filter it cannot parse.
    "sql-filter-v2": Case(400, f"{V2}?filter=%27%20OR%201%3D1--", method="GET"),
    "bad-limit-v1": Case(422, f"{V1}?limit=100000", method="GET"),
    "bad-cursor-v1": Case(422, f"{V1}?cursor=%27%3BDROP%20TABLE%20alerts", method="GET"),
    "bad-status-filter-v1": Case(422, f"{V1}?status=deleted", method="GET"),
    # 25. Path traversal in ids -> 404.
    "traversal-raw": Case(404, f"{V1}/../../etc/passwd", method="GET"),
    "traversal-encoded-slashes": Case(404, f"{V1}/..%2F..%2Fetc%2Fpasswd", method="GET"),
    "traversal-encoded-dots-slash": Case(404, f"{V1}/%2e%2e%2f", method="GET"),
    "traversal-overlong-slash": Case(404, f"{V1}/..%c0%af", method="GET"),
    "traversal-explain": Case(404, f"{V1}/%2e%2e%2f%2e%2e%2fetc%2fpasswd/explain", method="GET"),
    "traversal-ack": Case(404, f"{V1}/..%2F..%2Fetc%2Fpasswd/ack", body=b"{}"),
}


def send(url: str, case: Case) -> tuple[int, str, bytes]:
    """Send exactly the bytes and path of `case` (http.client: no path normalisation)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {**AUTH, **case.headers}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    try:
        if case.chunked:
            conn.request(case.method, case.path, chunks_of_10_mib(), headers, encode_chunked=True)
        else:
            conn.request(case.method, case.path, case.payload(), headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read()
    finally:
        conn.close()


def alert_count(url: str) -> int:
    return len(all_alerts_v1(url, headers=AUTH))


def assert_healthy(url: str) -> None:
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_without_side_effects(server: ServerProcess, name: str) -> None:
    case = CASES[name]
    before = alert_count(server.url)
    status, ctype, body = send(server.url, case)
    report = f"{case.method} {case.path} -> {status} {ctype} {body[:300]!r}"
    assert status == case.status, report
    if case.path.startswith("/api/v2/"):  # as Alertmanager answers: a JSON string
        assert ctype.split(";")[0].strip() == "application/json", report
        detail = json.loads(body)
        assert isinstance(detail, str) and detail.strip(), report
    else:
        assert ctype.split(";")[0].strip() == PROBLEM, report
        problem = json.loads(body)
        assert problem["status"] == status, report
        assert isinstance(problem.get("detail"), str), report
        assert problem["detail"].strip(), report
    assert alert_count(server.url) == before, f"{report}: the request changed the store"
    assert_healthy(server.url)


# -- accepted inputs: stored as plain data, exactly as documented ---------------------------


def post(url: str, path: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}{path}",
        content=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=30,
    )


def find(url: str, alertname: str) -> list[dict[str, Any]]:
    return [
        a for a in all_alerts_v1(url, headers=AUTH) if a["labels"].get("alertname") == alertname
    ]


def test_duplicate_json_keys_last_wins_v1(server: ServerProcess) -> None:
    """Catalogue 7, documented: a repeated key keeps its last value (as Go's and Python's JSON)."""
    before = alert_count(server.url)
    body = (
        b'{"title": "first", "title": "dup-keys-v1", '
        b'"labels": {"alertname": "DupV1", "team": "a", "team": "b"}}'
    )
    resp = post(server.url, V1, body)
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, "DupV1")
    assert stored["title"] == "dup-keys-v1"
    assert stored["labels"] == {"alertname": "DupV1", "team": "b"}
    assert alert_count(server.url) == before + 1


def test_duplicate_json_keys_last_wins_v2(server: ServerProcess) -> None:
    before = alert_count(server.url)
    body = b'[{"labels": {"alertname": "DupV2", "env": "dev", "env": "prod"}}]'
    resp = post(server.url, V2, body)
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, "DupV2")
    assert stored["labels"] == {"alertname": "DupV2", "env": "prod"}
    assert alert_count(server.url) == before + 1


def test_severity_case_variant_is_normalised(server: ServerProcess) -> None:
    resp = post(
        server.url, V1, one(title="Sev", labels={"alertname": "SevCase"}, severity="CRITICAL")
    )
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, "SevCase")
    assert stored["severity"] == "critical"


@pytest.mark.parametrize("key", ["__proto__", "__class__", "constructor", "prototype"])
def test_prototype_keys_are_plain_data_v1(server: ServerProcess, key: str) -> None:
    """Catalogue 29: object-model words are ordinary label and annotation names."""
    name = f"Proto{key.strip('_')}"
    resp = post(
        server.url,
        V1,
        one(title=name, labels={"alertname": name, key: "x"}, annotations={key: "y"}),
    )
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, name)
    assert stored["labels"] == {"alertname": name, key: "x"}
    assert stored["annotations"] == {key: "y"}


def test_proto_label_key_is_plain_data_v2(server: ServerProcess) -> None:
    resp = post(server.url, V2, am(labels={"alertname": "ProtoV2", "__proto__": "x"}))
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, "ProtoV2")
    assert stored["labels"] == {"alertname": "ProtoV2", "__proto__": "x"}


def test_unicode_tricks_are_stored_as_sent(server: ServerProcess) -> None:
    """Catalogue 13: bidi overrides, homoglyphs and NFD are stored as given (label bytes are
    the identity, as in Alertmanager; the console escapes them on display)."""
    labels = {"alertname": "UnicodeTricks", "rlo": "abc\u202efdp.exe", "user": "аdmin"}
    resp = post(server.url, V1, one(title="x", labels={**labels, "nfd": "cafe\u0301"}))
    assert resp.status_code == 200, resp.text
    [stored] = find(server.url, "UnicodeTricks")
    assert stored["labels"] == {**labels, "nfd": "cafe\u0301"}
    pair = post(
        server.url, V1, b'{"title": "x", "labels": {"alertname": "Pair", "e": "\\ud83d\\ude00"}}'
    )
    assert pair.status_code == 200, pair.text
    assert find(server.url, "Pair")[0]["labels"]["e"] == "😀"


def test_sql_in_matcher_value_is_data(server: ServerProcess) -> None:
    before = alert_count(server.url)
    resp = httpx.get(
        f"{server.url}{V1}", params={"filter": 'alertname="x\' OR 1=1--"'}, headers=AUTH, timeout=10
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == []
    # An unknown `sort` parameter is ignored, never executed.
    resp = httpx.get(
        f"{server.url}{V1}", params={"sort": "severity;DROP TABLE alerts"}, headers=AUTH, timeout=10
    )
    assert resp.status_code in (200, 422), resp.text
    assert alert_count(server.url) == before


INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for x in range(10**9) %}{% endfor %}",
    "${jndi:ldap://127.0.0.1:{port}/a}",
    "$(curl -s http://127.0.0.1:{port}/cmd)",
    "`wget http://127.0.0.1:{port}/tick`",
    "; curl http://127.0.0.1:{port}/semi #",
    "<img src=http://127.0.0.1:{port}/img onerror=alert(1)>",
    "http://127.0.0.1:{port}/link",
]


def test_template_and_command_injection_strings_are_data_and_call_nobody(
    server: ServerProcess,
) -> None:
    """Stored and shown exactly as sent; nothing is rendered, run or fetched: a canary on
    loopback named in every payload gets no connection."""
    canary = socket.socket()
    canary.bind(("127.0.0.1", 0))
    canary.listen()
    canary.setblocking(False)
    port = canary.getsockname()[1]
    payloads = [p.replace("{port}", str(port)) for p in INJECTIONS]
    try:
        for i, text in enumerate(payloads):
            body = json.dumps({
                "title": text, "description": text,
                "labels": {"alertname": f"Inject{i}", "cmd": text},
                "annotations": {"summary": text, "runbook": text},
            }).encode()  # fmt: skip
            assert post(server.url, V1, body).status_code == 200
            am = json.dumps([{"labels": {"alertname": f"InjectV2{i}", "cmd": text},
                              "generatorURL": f"http://127.0.0.1:{port}/g"}]).encode()  # fmt: skip
            assert post(server.url, V2, am).status_code == 200
        for i, text in enumerate(payloads):
            [stored] = find(server.url, f"Inject{i}")
            assert stored["title"] == stored["description"] == text
            assert stored["labels"]["cmd"] == stored["annotations"]["runbook"] == text
        with pytest.raises(BlockingIOError):
            canary.accept()  # nobody connected
    finally:
        canary.close()
