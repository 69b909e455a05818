"""Cost per alert as the number of active alerts grows, and memory per active alert.

    .venv/bin/python -m bench.scalebench [--steps 1000,10000,100000,1000000]

The server (SQLite) is filled step by step with distinct active alerts in batches of 1,000.
At each step it measures 20,000 further sends in batches of 1,000: new alerts, then repeats
of existing ones. It also reads the server's resident memory (VmRSS, its decode workers
included), and does the same for Alertmanager 0.25 fed the same alerts, for memory per active
alert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.loadbench import (
    MASTER_KEY,
    VENV_BIN,
    free_port,
    ingest_key,
    spawn,
    status_mb,
    stop,
    wait_ready,
)

PROBE = 20_000


def send(api: httpx.Client, first: int, count: int, tag: str) -> float:
    started = time.perf_counter()
    for start in range(first, first + count, 1000):
        batch = [{"labels": {"alertname": "Scale", "tag": tag, "n": str(i)}}
                 for i in range(start, min(first + count, start + 1000))]  # fmt: skip
        api.post("/api/v2/alerts", json=batch).raise_for_status()
    return time.perf_counter() - started


def server(name: str, tmp: str) -> tuple[object, str, dict[str, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tmp, f"{name}.log")
    if name == "alertmanager":
        Path(tmp, "am.yml").write_text("route:\n  receiver: d\nreceivers:\n- name: d\n")
        proc = spawn(["/usr/bin/prometheus-alertmanager", f"--config.file={tmp}/am.yml",
                      f"--storage.path={tmp}/am", f"--web.listen-address=127.0.0.1:{port}",
                      "--cluster.listen-address=", "--log.level=warn"], log=log)  # fmt: skip
        wait_ready(proc, url + "/-/ready", log)
        return proc, url, {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    env.update(ALERTS_PORT=str(port), ALERTS_LOG_LEVEL="WARNING",
               ALERTS_ENCRYPTION_KEY=MASTER_KEY, ALERTS_DB_PATH=f"{tmp}/s.db")  # fmt: skip
    headers = {"Authorization": f"Bearer {ingest_key(env)}"}
    proc = spawn([str(VENV_BIN / "core-alerts"), "serve"], env=env, log=log)
    wait_ready(proc, url + "/readyz", log)
    return proc, url, headers


def run(name: str, steps: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        proc, url, headers = server(name, tmp)
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=300) as api:
                base = active = 0
                for step in steps:
                    send(api, base, step - active, "base")  # fill up to `step` active alerts
                    base += step - active
                    active = step
                    rss = status_mb(proc.pid, "VmRSS")  # type: ignore[attr-defined]
                    new = send(api, 0, PROBE, f"probe{step}")  # stays active afterwards
                    repeat = send(api, 0, PROBE, "base")
                    active += PROBE
                    row: dict[str, object] = {
                        "server": name, "active": step, "rss_mb": round(rss, 1),
                        "kb_per_active_alert": round(rss * 1024 / step, 2),
                        "new_per_s": round(PROBE / new), "repeat_per_s": round(PROBE / repeat),
                    }  # fmt: skip
                    print(json.dumps(row), flush=True)
                    rows.append(row)
        finally:
            stop(proc)  # type: ignore[arg-type]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", default="1000,10000,100000,1000000")
    parser.add_argument("--servers", default="core-sqlite,alertmanager")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    rows = [row for name in args.servers.split(",") for row in run(name, steps)]
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
