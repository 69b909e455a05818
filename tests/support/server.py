"""Run `core-alerts serve` as a real subprocess on a free loopback port."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core_alerts.crypto import generate_master_key
from core_alerts.domain.access import ROLE_SCOPES, Role, SigningKey
from core_alerts.security import TokenService
from tests.support.services import free_port


class ServerProcess:
    """A core-alerts server; `start()` waits until /readyz answers 200."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None, port: int | None = None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.jwt_secret = secrets.token_urlsafe(48)
        self.env = {
            **os.environ,
            "ALERTS_DB_PATH": str(workdir / "core-alerts.db"),
            "ALERTS_PORT": str(self.port),
            "ALERTS_JWT_SECRET": self.jwt_secret,
            "ALERTS_ENCRYPTION_KEY": generate_master_key(),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"server-{self.port}.log"

    def token(
        self, tenant: str = "default", role: Role = Role.PLATFORM_ADMIN, subject: str = "tests"
    ) -> str:
        """A token the server accepts: signed here with the secret it was started with."""
        key = SigningKey(kid="config", algorithm="HS256", secret=self.jwt_secret)
        service = TokenService([key], issuer="core-alerts", audience="core-alerts", leeway=30)
        return service.issue(tenant, subject, ROLE_SCOPES[role], time.time(), 3600)[0]

    @property
    def headers(self) -> dict[str, str]:
        """Authorization of a platform admin (every scope, any tenant)."""
        return {"Authorization": f"Bearer {self.token()}"}

    def start(self, timeout: float = 30) -> ServerProcess:
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core_alerts.cli", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {timeout}s: {self.log.read_text()[-2000:]}")

    def children(self) -> list[int]:
        """Process ids of the server's live child processes (its decode workers)."""
        if self.proc is None:
            return []
        tasks = Path(f"/proc/{self.proc.pid}/task")
        return [
            int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()
        ]

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run (the crash case)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
