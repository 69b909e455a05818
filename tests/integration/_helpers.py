"""Shared by the integration tests: polling, external processes, and reading alerts back."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.services import free_port

T = TypeVar("T")
AM_CONFIG = "route:\n  receiver: default\nreceivers:\n- name: default\n"


def wait_for(
    check: Callable[[], T | None],
    what: str,
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
) -> T:
    """Poll `check` until it returns a truthy value; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            suffix = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{suffix}")
        time.sleep(interval)


class ExternalProcess:
    """A binary run with its output in a log file; `stop()` always reaps it."""

    def __init__(self, name: str, argv: list[str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ExternalProcess:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"{self.name} exited early ({self.proc.returncode}):\n{self.tail()}"
            )

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def wait_http_ok(proc: ExternalProcess, url: str, timeout: float = 30.0) -> None:
    def ready() -> bool:
        proc.check_alive()
        return httpx.get(url, timeout=2).status_code == 200

    wait_for(ready, f"{proc.name} at {url}", timeout=timeout, interval=0.1)


@contextmanager
def real_alertmanager(binary: str, workdir: Path) -> Iterator[str]:
    """A real Alertmanager (cluster disabled) on a free loopback port; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(AM_CONFIG)
    port = free_port()
    proc = ExternalProcess(
        "alertmanager",
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(proc, f"{url}/-/ready")
        yield url
    finally:
        proc.stop()


class SwitchServer:
    """Serves `test_switch <0|1>` in Prometheus' text format from a thread."""

    def __init__(self, value: int = 1) -> None:
        self.value = value
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = (
                    "# HELP test_switch Whether the test alert should fire.\n"
                    "# TYPE test_switch gauge\n"
                    f"test_switch {switch.value}\n"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SwitchServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def all_alerts_v1(url: str, *, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every alert of the tenant through GET /api/v1/alerts, following next_cursor."""
    items: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 1000}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        while True:
            resp = client.get("/api/v1/alerts", params=params)
            assert resp.status_code == 200, resp.text
            page = resp.json()
            items.extend(page["items"])
            if not page["next_cursor"]:
                return items
            params["cursor"] = page["next_cursor"]


def alerts_v2(url: str, *, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    resp = httpx.get(f"{url}/api/v2/alerts", timeout=30, headers=headers)
    assert resp.status_code == 200, resp.text
    result: list[dict[str, Any]] = resp.json()
    return result


def post_v2(
    url: str, alerts: list[dict[str, Any]], *, headers: dict[str, str] | None = None
) -> None:
    resp = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=30, headers=headers)
    assert resp.status_code == 200, f"{url}: {resp.status_code} {resp.text}"
