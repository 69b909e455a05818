"""Crash and shutdown durability (reliability plan b.1/b.2 F1 and F3), Jepsen "set" style.

Four client threads post batches of 50 uniquely labelled alerts. A batch answered 2xx goes to
the `acked` ledger; a batch whose request failed goes to `indeterminate`. After a SIGKILL (or
SIGTERM) and a restart on the same database, the checker reads every alert back through the
API and classifies: acked but missing = lost (must be 0); stored but never sent = unexpected
(must be 0). Retrying every batch then fills in the indeterminate ones without duplicating
any row.
"""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.integration._helpers import all_alerts_v1, wait_for
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

BATCH = 50
WORKERS = 4
KILL_CYCLES = 3
GRACEFUL_TIMEOUT = 10
SEED = 20240917


@dataclass
class Ledger:
    """What the clients know: batches acknowledged, and batches with an unknown outcome."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[int] = field(default_factory=set)
    indeterminate: set[int] = field(default_factory=set)
    rejected: dict[int, int] = field(default_factory=dict)
    batches: list[list[int]] = field(default_factory=list)
    acked_batches: int = 0

    @property
    def sent(self) -> set[int]:
        return self.acked | self.indeterminate

    def record(self, seqs: list[int], status: int | None) -> None:
        with self.lock:
            self.batches.append(seqs)
            if status is not None and 200 <= status < 300:
                self.acked.update(seqs)
                self.acked_batches += 1
            else:
                # A timeout, reset or refused connection, or an error status: the outcome is
                # unknown to the client (a 503 may still race a commit), so it may be stored.
                self.indeterminate.update(seqs)
                if status is not None:
                    self.rejected[status] = self.rejected.get(status, 0) + 1


def batch_body(seqs: list[int]) -> list[dict[str, object]]:
    return [{"labels": {"alertname": "Dur", "seq": str(n)}} for n in seqs]


class LoadGenerator:
    """WORKERS threads posting unique batches until `stop()`."""

    def __init__(self, url: str, ledger: Ledger, counter: Iterator[int]) -> None:
        self.url = url
        self.ledger = ledger
        self.counter = counter
        self.counter_lock = threading.Lock()
        self.halt = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, name=f"load-{i}", daemon=True)
            for i in range(WORKERS)
        ]

    def _next_batch(self) -> list[int]:
        with self.counter_lock:
            return [next(self.counter) for _ in range(BATCH)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10, headers=AUTH) as client:
            while not self.halt.is_set():
                seqs = self._next_batch()
                status: int | None = None
                try:
                    status = client.post("/api/v2/alerts", json=batch_body(seqs)).status_code
                except httpx.HTTPError:
                    status = None
                self.ledger.record(seqs, status)
                if status is None:
                    # The server is gone; back off a little rather than spin on refusals.
                    self.halt.wait(0.05)

    def __enter__(self) -> LoadGenerator:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        for t in self.threads:
            t.join(30)
        assert not any(t.is_alive() for t in self.threads), "load threads did not stop"


def stored_seqs(url: str) -> list[int]:
    return [
        int(a["labels"]["seq"])
        for a in all_alerts_v1(url, headers=AUTH)
        if a["labels"].get("alertname") == "Dur"
    ]


def check_ledger(url: str, ledger: Ledger, when: str) -> set[int]:
    """Read everything back; assert 0 lost, 0 unexpected, one row per alert."""
    seqs = stored_seqs(url)
    stored = set(seqs)
    lost = ledger.acked - stored
    unexpected = stored - ledger.sent
    summary = (
        f"{when}: acked {len(ledger.acked)}, indeterminate {len(ledger.indeterminate)}, "
        f"stored {len(stored)}, rejected statuses {ledger.rejected}"
    )
    assert not lost, f"{summary}; LOST {len(lost)} acked alerts, e.g. {sorted(lost)[:10]}"
    assert not unexpected, (
        f"{summary}; {len(unexpected)} unexpected, e.g. {sorted(unexpected)[:10]}"
    )
    assert len(seqs) == len(stored), f"{summary}; duplicate rows for one alert"
    return stored


def retry_all(url: str, batches: list[list[int]]) -> None:
    """The client's retry: re-send every batch of this run, as it was sent."""
    with httpx.Client(base_url=url, timeout=30, headers=AUTH) as client:
        for seqs in batches:
            resp = client.post("/api/v2/alerts", json=batch_body(seqs))
            assert resp.status_code == 200, resp.text


def wait_acked(ledger: Ledger, batches: int, server: ServerProcess) -> None:
    def enough() -> bool:
        assert server.proc is not None and server.proc.poll() is None, "server died under load"
        return ledger.acked_batches >= batches

    wait_for(enough, f"{batches} acknowledged batches", timeout=60, interval=0.01)


AUTH: dict[str, str] = {}
"""The admin's Authorization header, set by the `server` fixture."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        "ALERTS_SERVER__GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        # Every batch is decoded in a worker process, as large ones are in production.
        "ALERTS_PROCESSING__DECODE_WORKERS": "1",
        "ALERTS_PROCESSING__DECODE_OFFLOAD_BYTES": "0",
    }
    proc = ServerProcess(tmp_path, env=env).start()
    AUTH.update(proc.headers)  # the token stays valid across restarts: same signing secret
    try:
        yield proc
    finally:
        proc.stop()


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_kill_9_loses_no_acknowledged_alert(server: ServerProcess) -> None:
    rng = random.Random(SEED)
    ledger = Ledger()
    counter = itertools.count(1)
    for cycle in range(1, KILL_CYCLES + 1):
        start_batches = len(ledger.batches)
        target = ledger.acked_batches + 30 + rng.randrange(30)
        with LoadGenerator(server.url, ledger, counter):
            wait_acked(ledger, target, server)
            workers = server.children()
            server.kill()  # SIGKILL while the four clients are mid-request
        assert workers, "the batches were not decoded in a worker process"
        wait_for(lambda w=workers: not any(map(running, w)), "decode workers to exit", timeout=10)
        server.start()

        check_ledger(server.url, ledger, f"after kill {cycle}")
        with ledger.lock:
            this_cycle = ledger.batches[start_batches:]
        retry_all(server.url, this_cycle)
        stored = check_ledger(server.url, ledger, f"after retrying cycle {cycle}")
        assert stored == ledger.sent, "a retried batch is still missing"
    assert ledger.acked_batches >= KILL_CYCLES * 30


def test_sigterm_drains_and_exits_0(server: ServerProcess) -> None:
    ledger = Ledger()
    with LoadGenerator(server.url, ledger, itertools.count(1)):
        wait_acked(ledger, 30, server)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(GRACEFUL_TIMEOUT + 15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(10)
            pytest.fail(f"no exit within {GRACEFUL_TIMEOUT + 15}s of SIGTERM")
    server.start()
    check_ledger(server.url, ledger, "after SIGTERM")
    assert code == 0, f"exit code {code} after SIGTERM (expected a clean 0)"
