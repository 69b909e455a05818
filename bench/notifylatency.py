"""Ingest-to-notification latency, core-alerts against Alertmanager 0.25, side by side.

A webhook sink in this process receives the notifications; each alert carries the time it
was posted (annotation `sent`), so latency = received - sent, per alert. Every alert is its
own group (`group_by: ['...']`, `group_wait: 0s`), so each alert is one notification. Alerts
are posted in batches every 10 ms at the requested rate for `--seconds`.

    bench/run-notify [--rates 100,1000,10000] [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from bench.loadbench import (
    MASTER_KEY,
    VENV_BIN,
    free_port,
    ingest_key,
    spawn,
    stop,
    wait_ready,
)

TICK = 0.01


def am_config(sink: int) -> str:
    return (
        "route:\n  receiver: sink\n  group_by: ['...']\n  group_wait: 0s\n"
        "  group_interval: 1m\n  repeat_interval: 24h\n"
        f"receivers:\n  - name: sink\n    webhook_configs:\n"
        f"      - url: http://127.0.0.1:{sink}/hook\n        send_resolved: false\n"
    )


class Sink:
    def __init__(self) -> None:
        self.latency: dict[str, float] = {}
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def _hook(self, request: web.Request) -> web.Response:
        now = time.time()
        body = await request.json()
        for alert in body["alerts"]:
            seq = alert["labels"]["seq"]
            if seq not in self.latency:
                self.latency[seq] = now - float(alert["annotations"]["sent"])
        return web.Response(text="ok")


async def drive(url: str, auth: str | None, rate: int, seconds: float, run: str) -> int:
    headers = {"Authorization": auth} if auth else {}
    per_tick = max(1, round(rate * TICK))
    ticks = int(seconds / TICK)
    sent = 0
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        start = time.perf_counter()
        pending: set[asyncio.Task[Any]] = set()
        for tick in range(ticks):
            await asyncio.sleep(max(0.0, start + tick * TICK - time.perf_counter()))
            now = str(time.time())
            batch = [
                {"labels": {"alertname": "Lat", "seq": f"{run}-{sent + i}"},
                 "annotations": {"sent": now}}
                for i in range(per_tick)
            ]  # fmt: skip
            sent += per_tick
            task = asyncio.create_task(client.post("/api/v2/alerts", json=batch))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
    return sent


def start(name: str, workdir: Path, sink: int, am_binary: str) -> tuple[Any, str, str | None]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (workdir / "am.yml").write_text(am_config(sink))
    log = workdir / f"{name}.log"
    if name == "alertmanager":
        proc = spawn([am_binary, f"--config.file={workdir / 'am.yml'}",
                      f"--storage.path={workdir / 'am'}",
                      f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                      "--log.level=warn"], log=log)  # fmt: skip
        wait_ready(proc, url + "/-/ready", log)
        return proc, url, None
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    (workdir / "core.yml").write_text(json.dumps({"core_alerts": {"notifications": {
        "config_file": str(workdir / "am.yml"), "outbound_allow": ["127.0.0.1/32"],
        "receiver_rate_limit": 1e6, "receiver_burst": 1e6, "tenant_rate_limit": 1e6,
        "tenant_burst": 1e6, "receiver_concurrency": 16,
    }}}))  # fmt: skip
    env.update(
        ALERTS_PORT=str(port),
        ALERTS_LOG_LEVEL="WARNING",
        ALERTS_ENCRYPTION_KEY=MASTER_KEY,
        ALERTS_DB_PATH=str(workdir / "bench.db"),
        ALERTS_CONFIG=str(workdir / "core.yml"),
    )
    auth = f"Bearer {ingest_key(env)}"
    proc = spawn([str(VENV_BIN / "core-alerts"), "serve"], env=env, log=log)
    wait_ready(proc, url + "/readyz", log)
    return proc, url, auth


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(name: str, rate: int, seconds: float, am_binary: str, run: int) -> dict:
    sink = Sink()
    await sink.start()
    with tempfile.TemporaryDirectory(prefix="notify-bench-") as tmp:
        proc, url, auth = start(name, Path(tmp), sink.port, am_binary)
        try:
            tag = f"{name}-{rate}-{run}"
            sent = await drive(url, auth, rate, seconds, tag)
            deadline = time.monotonic() + 30
            while len(sink.latency) < sent and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            stop(proc)
            await sink.runner.cleanup()
    lat = list(sink.latency.values())
    return {
        "server": name, "rate": rate, "run": run, "sent": sent, "received": len(lat),
        "p50_ms": percentile(lat, 0.5) * 1000 if lat else None,
        "p99_ms": percentile(lat, 0.99) * 1000 if lat else None,
        "max_ms": max(lat) * 1000 if lat else None,
    }  # fmt: skip


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,1000,10000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = []
    for rate in (int(r) for r in args.rates.split(",")):
        for run in range(args.runs):
            for name in ("core-sqlite", "alertmanager"):  # side by side, alternating
                row = await measure(name, rate, args.seconds, args.alertmanager, run)
                print(json.dumps(row), flush=True)
                rows.append(row)
    print("\n| rate/s | server | received | p50 ms | p99 ms | max ms |\n|--:|---|--:|--:|--:|--:|")
    for rate in sorted({r["rate"] for r in rows}):
        for name in ("core-sqlite", "alertmanager"):
            mine = [r for r in rows if r["rate"] == rate and r["server"] == name]
            med = {k: statistics.median(r[k] for r in mine if r[k] is not None)
                   for k in ("p50_ms", "p99_ms", "max_ms")}  # fmt: skip
            got = f"{sum(r['received'] for r in mine)}/{sum(r['sent'] for r in mine)}"
            print(f"| {rate} | {name} | {got} | {med['p50_ms']:.1f} | {med['p99_ms']:.1f} "
                  f"| {med['max_ms']:.1f} |")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
