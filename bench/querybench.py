"""Queries and status changes with many active alerts (issue 5's targets), core-alerts on
SQLite: `GET /api/v2/alerts` with a label filter, and acknowledging alerts one by one.

    .venv/bin/python -m bench.querybench [--alerts 100000] [--runs 5]

The alerts are loaded in batches of 1,000; 1 in 1,000 has `team="db"`, each has its own
`instance`. Medians of `--runs` calls per query; the ack figures are over 100 calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.loadbench import MASTER_KEY, VENV_BIN, free_port, spawn, stop, wait_ready


def admin_token(env: dict[str, str]) -> str:
    made = subprocess.run(
        [str(VENV_BIN / "core-alerts"), "tokens", "create", "--role", "admin"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return made.stdout.strip()


def timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="query-bench-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
        env.update(ALERTS_PORT=str(port), ALERTS_LOG_LEVEL="WARNING",
                   ALERTS_ENCRYPTION_KEY=MASTER_KEY, ALERTS_DB_PATH=f"{tmp}/q.db")  # fmt: skip
        token = admin_token(env)
        proc = spawn([str(VENV_BIN / "core-alerts"), "serve"], env=env, log=Path(tmp, "s.log"))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(proc, url + "/readyz", Path(tmp, "s.log"))
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=url, headers=headers, timeout=300) as api:
                rows = run(api, args.alerts, args.runs)
        finally:
            stop(proc)
    print(json.dumps(rows, indent=1))
    return 0


def run(api: httpx.Client, count: int, runs: int) -> dict[str, float]:
    started = time.perf_counter()
    for first in range(0, count, 1000):
        batch = [
            {"labels": {"alertname": "Load", "instance": f"i{i}",
                        "team": "db" if i % 1000 == 0 else "web"}}
            for i in range(first, min(count, first + 1000))
        ]  # fmt: skip
        api.post("/api/v2/alerts", json=batch).raise_for_status()
    out = {"alerts": count, "load_s": round(time.perf_counter() - started, 1)}
    for name, flt in (("team=db", 'team="db"'), ("instance", 'instance="i500"'),
                      ("all", 'alertname="Load"')):  # fmt: skip
        ms = [timed(lambda f=flt: api.get("/api/v2/alerts", params={"filter": f}))
              for _ in range(runs)]  # fmt: skip
        out[f"get_{name}_median_ms"] = round(statistics.median(ms), 1)
    items = api.get("/api/v1/alerts", params={"limit": 100}).json()["items"]
    acks = sorted(
        timed(lambda a=a: api.post(f"/api/v1/alerts/{a['id']}/ack", json={}).raise_for_status())
        for a in items
    )
    out["ack_p50_ms"] = round(acks[len(acks) // 2], 1)
    out["ack_p99_ms"] = round(acks[min(len(acks) - 1, int(len(acks) * 0.99))], 1)
    return out


if __name__ == "__main__":
    sys.exit(main())
