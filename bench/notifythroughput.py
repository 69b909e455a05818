"""Notifications per second per channel type, into a local sink in another process.

Each channel delivers `--count` notifications (one alert each) from a real SQLite outbox
through the real delivery worker (rate limits lifted, 16 deliveries in flight) to an HTTP
sink (or an SMTP sink for email) running in a child process. The figure includes this
process's whole cost per notification: claim, render, send, record.

    .venv/bin/python -m bench.notifythroughput [--count 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.loadbench import free_port
from core_alerts.domain.clock import SystemClock
from core_alerts.domain.notification import Notification, NotifiedAlert
from core_alerts.notify import (
    ChannelContext,
    DeliveryPolicy,
    DeliveryWorker,
    TemplateEngine,
    build_integrations,
    parse_receiver,
)
from core_alerts.outbound import AllowList, OutboundClient, OutboundPolicy
from core_alerts.store import LocalBuckets
from core_alerts.store.sqlite import SqliteNotifyStore
from core_alerts.telemetry import MetricsCollector

SYS_ID = "0" * 32


def configs(http: int, smtp: int) -> dict[str, dict[str, Any]]:
    base = f"http://127.0.0.1:{http}"
    return {
        "webhook": {"webhook_configs": [{"url": f"{base}/webhook"}]},
        "slack": {"slack_configs": [{"api_url": f"{base}/slack", "channel": "#x"}]},
        "msteams": {"msteams_configs": [{"webhook_url": f"{base}/teams"}]},
        "pagerduty": {"pagerduty_configs": [{"routing_key": "k" * 32, "url": f"{base}/pd"}]},
        "opsgenie": {"opsgenie_configs": [{"api_key": "k", "api_url": f"{base}/og/"}]},
        "servicenow": {
            "servicenow_configs": [{"instance_url": f"{base}/sn", "username": "u", "password": "p"}]
        },
        "email": {
            "email_configs": [
                {
                    "to": "ops@example.com",
                    "from": "ca@example.com",
                    "smarthost": f"127.0.0.1:{smtp}",
                    "require_tls": False,
                }
            ]
        },
        "apprise": {"apprise_configs": [{"urls": [f"json://127.0.0.1:{http}/apprise"]}]},
    }


def _sink(http: int, smtp: int) -> None:
    from aiosmtpd.controller import Controller

    class Mailbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    mail = Controller(Mailbox(), hostname="127.0.0.1", port=smtp)
    mail.start()

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        path = request.path
        if path.startswith("/sn"):
            if request.method == "GET":
                return web.json_response({"result": []})
            return web.json_response({"result": {"sys_id": SYS_ID, "number": "INC1"}}, status=201)
        if path.startswith("/pd"):
            return web.json_response({"status": "success"}, status=202)
        if path.startswith("/og"):
            return web.json_response({"result": "Request will be processed"}, status=202)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=http, access_log=None, print=None)


def notification(n: int, channel: str) -> Notification:
    alert = NotifiedAlert(
        alert_id=f"a{n}", fingerprint=f"{n:016x}", status="firing",
        labels={"alertname": "Bench", "instance": f"host-{n}", "severity": "critical"},
        annotations={"summary": f"bench alert {n}"}, starts_at=time.time(),
    )  # fmt: skip
    return Notification(
        id=f"{channel}-{n:08d}", tenant_id="bench", receiver=channel,
        integration=f"{channel}[0]", group_key=f'{{}}:{{instance="host-{n}"}}',
        group_labels={"instance": f"host-{n}"}, alerts=(alert,), created_at=time.time(),
    )  # fmt: skip


async def one(channel: str, cfg: dict[str, Any], count: int, workdir: Path) -> tuple[float, float]:
    """Notifications per second, and CPU microseconds of this process per notification."""
    policy = OutboundPolicy(allow=AllowList.parse(["127.0.0.1/32"]))
    clock = SystemClock()
    store = SqliteNotifyStore(str(workdir / f"{channel}.db"), clock=clock)
    await store.open()
    async with OutboundClient(policy) as http:
        ctx = ChannelContext(http=http, templates=TemplateEngine(), clock=clock, policy=policy)
        [integration] = build_integrations(parse_receiver(channel, cfg, {}), ctx)
        lookup = lambda t, r, k: integration  # noqa: E731
        worker = DeliveryWorker(
            store, clock, lookup, LocalBuckets(), MetricsCollector(),
            DeliveryPolicy(receiver_rate=1e9, receiver_burst=1e9, tenant_rate=1e9,
                           tenant_burst=1e9, concurrency=16, capacity=512),
            owner="bench",
        )  # fmt: skip
        await store.enqueue([notification(n, channel) for n in range(count)], [])
        started, cpu = time.perf_counter(), time.process_time()
        while (await store.counts()).get(("bench", "pending")):
            if not await worker.run_once():
                await asyncio.sleep(0.01)  # a retry is due shortly
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        counts = await store.counts()
        retried = [e.last_error for e in (await store.list_outbox("bench", limit=1000)).entries
                   if e.attempts > 1]  # fmt: skip
        if retried:
            print(f"{channel}: {len(retried)} retried, e.g. {retried[0]}", file=sys.stderr)
    await store.close()
    delivered = counts.get(("bench", "delivered"), 0)
    if delivered != count:
        raise RuntimeError(f"{channel}: {delivered}/{count} delivered: {counts}")
    return count / elapsed, cpu / count * 1e6


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--channels", default="", help="comma-separated subset (default: all)")
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.channels.split(",")))
    http, smtp = free_port(), free_port()
    sink = multiprocessing.Process(target=_sink, args=(http, smtp), daemon=True)
    sink.start()
    await asyncio.sleep(1.5)
    results: dict[str, list[float]] = {}
    cpu_us: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="notify-tp-") as tmp:
            for run in range(args.runs):
                for channel, cfg in configs(http, smtp).items():
                    if wanted and channel not in wanted:
                        continue
                    rate, cpu = await one(channel, cfg, args.count, Path(tmp) / str(run))
                    results.setdefault(channel, []).append(rate)
                    cpu_us.setdefault(channel, []).append(cpu)
                    line = {"channel": channel, "run": run, "per_s": round(rate), "cpu_us": cpu}
                    print(json.dumps(line))
    finally:
        sink.terminate()
    print(
        "\n| channel | notifications/s (median) | CPU µs/notification (median) | runs |"
        "\n|---|--:|--:|---|"
    )
    for channel, rates in results.items():
        runs = ", ".join(f"{r:.0f}" for r in rates)
        cpu = statistics.median(cpu_us[channel])
        print(f"| {channel} | {statistics.median(rates):.0f} | {cpu:.0f} | {runs} |")
    if args.out:
        args.out.write_text(json.dumps({"per_s": results, "cpu_us": cpu_us}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
