"""Single-alert requests driven by wrk: core-alerts against Alertmanager 0.25, side by side.

Each request is `POST /api/v2/alerts` with one alert, cycling over `--hot` distinct label sets
(so after the first round every request repeats a live alert, as Prometheus re-sending does).
For each round and each connection count, core-alerts (fresh SQLite file, with an ingest API
key, as Prometheus would send) and Alertmanager (fresh storage) are started in turn and
driven by `wrk --latency` for `--seconds`; requests/s, p50/p90/p99 and server CPU per request
are reported as medians over rounds, with the ratio to Alertmanager measured in each round.

    .venv/bin/python -m bench.wrkbench [--connections 8,64] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.loadbench import Running, cpu_seconds, start_server, stop_server

LUA = """
local n = 0
local hot = {hot}
request = function()
  n = n + 1
  local i = n % hot
  local body = '[{{"labels":{{"alertname":"WrkBench","instance":"node-' .. i ..
    '","severity":"warning","job":"node"}},"annotations":{{"summary":"load on node-' .. i ..
    '"}}}}]'
  return wrk.format("POST", "/api/v2/alerts", {{
    ["Content-Type"] = "application/json",
    {auth}
  }}, body)
end
"""

UNLIMITED = {
    "ALERTS_SECURITY__CREDENTIAL_RATE_LIMIT": "0",
    "ALERTS_SECURITY__TENANT_RATE_LIMIT": "0",
}
"""One API key sends everything here, faster than its default limit (5,000 requests/s):
measure the service, not its rate limiter (Alertmanager has none)."""

_COLUMNS = ("rps", "p50_ms", "p90_ms", "p99_ms", "cpu_us_per_request", "errors")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, latency percentiles (ms) and non-2xx count from `wrk --latency`."""
    out = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.MULTILINE)
        out[f"p{pct}_ms"] = _ms(found.group(1)) if found else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    out["errors"] = float(bad.group(1)) if bad else 0.0
    total = re.search(r"(\d+) requests in", output)
    out["requests"] = float(total.group(1)) if total else 0.0
    return out


def drive(
    srv: Running, connections: int, seconds: float, hot: int, workdir: Path
) -> dict[str, Any]:
    auth = f'["Authorization"] = "{srv.authorization}",' if srv.authorization else ""
    script = workdir / "post.lua"
    script.write_text(LUA.format(hot=hot, auth=auth))
    cpu0 = cpu_seconds(srv.proc.pid)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
         srv.url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    cpu = cpu_seconds(srv.proc.pid) - cpu0
    result = parse_wrk(done.stdout)
    result["cpu_us_per_request"] = cpu / max(result["requests"], 1.0) * 1e6
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", default="8,64")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hot", type=int, default=1000)
    parser.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian package wrk)")
    rows: list[dict[str, Any]] = []
    for run in range(args.runs):
        for conns in (int(c) for c in args.connections.split(",")):
            for name in ("core-sqlite", "alertmanager"):
                with tempfile.TemporaryDirectory(prefix="wrkbench-") as tmp:
                    srv = start_server(name, Path(tmp), args.alertmanager, None, UNLIMITED)
                    try:
                        row = drive(srv, conns, args.seconds, args.hot, Path(tmp))
                    finally:
                        stop_server(srv)
                row.update(server=name, connections=conns, run=run)
                print(json.dumps(row), flush=True)
                rows.append(row)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| connections | server | requests/s | p50 ms | p90 ms | p99 ms | CPU µs/request "
        "| non-2xx | × AM requests/s | × AM p99 |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for conns in sorted({r["connections"] for r in rows}):
        for name in ("core-sqlite", "alertmanager"):
            mine = [r for r in rows if r["connections"] == conns and r["server"] == name]
            if not mine:
                continue
            med = {k: statistics.median(r[k] for r in mine) for k in _COLUMNS}
            ratio = ""
            if name != "alertmanager":
                pairs = [
                    (r, a)
                    for r in mine
                    for a in rows
                    if a["server"] == "alertmanager"
                    and a["connections"] == conns
                    and a["run"] == r["run"]
                ]
                rps = statistics.median(r["rps"] / a["rps"] for r, a in pairs)
                p99 = statistics.median(r["p99_ms"] / a["p99_ms"] for r, a in pairs)
                ratio = f"{rps:.2f} | {p99:.2f}"
            else:
                ratio = "– | –"
            lines.append(
                f"| {conns} | {name} | {med['rps']:,.0f} | {med['p50_ms']:.2f} | "
                f"{med['p90_ms']:.2f} | {med['p99_ms']:.2f} | {med['cpu_us_per_request']:,.0f} | "
                f"{med['errors']:.0f} | {ratio} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
