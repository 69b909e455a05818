"""Load benchmark driver behind `bench/run`: core-alerts against Alertmanager, side by side.

For each configuration (batch size x duplicate ratio x concurrency) and each round, every
server is started fresh (new SQLite file, recreated PostgreSQL database, new Alertmanager
storage), fed the same pre-generated traffic by alertload.py (`--format alertmanager-v2`,
POST /api/v2/alerts), measured (alertload's JSON line, plus CPU seconds from /proc/<pid>/stat
and peak RSS from VmHWM in /proc/<pid>/status), and stopped. The servers take turns inside a
round, so each core-alerts / Alertmanager ratio is measured side by side; the table shows
the median over rounds.

Every process this script starts is stopped on exit, on error, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_ALERTLOAD = ROOT.parent / "shared" / "tools" / "alertload.py"
DEFAULT_AM = "/usr/bin/prometheus-alertmanager"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "core_alerts_bench"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVERS = ("core-sqlite", "core-pg", "alertmanager")
AM_CONFIG = "route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n"
# A fixed, valid master key for field encryption (the service refuses to start without one).
MASTER_KEY = "bench:Xq1jMx0zq9oIXkJm3Xw8x5oV2r9cT4bY7nR1s6uE0aQ="
WARMUP_BODY = b'[{"labels": {"alertname": "BenchWarmup", "bench": "warmup"}}]'

# Alerts per run by batch size: every server gets the same traffic (same count, same seed)
# unless --duration cuts a slow one short; sized so core-alerts needs ~5-10 s per run here.
DEFAULT_COUNTS = {1: 4000, 100: 60_000, 1000: 100_000}
QUICK_COUNTS = {1: 300, 100: 3000, 1000: 4000}


class Interrupted(Exception):
    """SIGTERM/SIGHUP: unwind through the `finally` blocks that stop the servers."""


# -- processes ---------------------------------------------------------------------------

_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(
    cmd: list[str], *, env: dict[str, str] | None = None, log: Path
) -> subprocess.Popen[bytes]:
    """Start a child in its own session (Ctrl-C reaches only us; we stop it ourselves)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; only this one process, by its pid."""
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    finally:
        _children.pop(proc.pid, None)


def stop_all() -> None:
    for proc in list(_children.values()):
        with contextlib.suppress(Exception):
            stop(proc, timeout=10)


def _on_signal(signum: int, _frame: object) -> None:
    raise Interrupted(f"signal {signum}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    url: str, body: bytes | None = None, timeout: float = 2.0, authorization: str | None = None
) -> int:
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if authorization:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: exited with {proc.returncode}: {tail(log)}")
        with contextlib.suppress(OSError):
            if http(url, timeout=1.0) == 200:
                return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {timeout}s: {tail(log)}")


def tail(log: Path, n: int = 1500) -> str:
    try:
        return log.read_text(errors="replace")[-n:]
    except OSError:
        return ""


# -- /proc -------------------------------------------------------------------------------


def family(pid: int) -> list[int]:
    """The process and its children (core-alerts' decode workers)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            kids += [int(k) for k in (task / "children").read_text().split()]
    return [pid, *kids]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children (all their threads), in seconds."""
    total = 0.0
    for member in family(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def status_mb(pid: int, field: str = "VmHWM") -> float:
    """A memory field of /proc/<pid>/status (VmHWM: peak RSS, VmRSS: RSS) summed over the
    process and its children (an upper bound of their joint peak)."""
    total = 0.0
    for member in family(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/status") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1]) / 1024
    return total


def pg_backends() -> list[int]:
    out = subprocess.run(
        ["psql", PG_ADMIN, "-Atqc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{PG_DB}'"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [int(x) for x in out.split()]


def pg_cpu(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            found[pid] = cpu_seconds(pid)
    return found


def psql_admin(sql: str) -> None:
    subprocess.run(
        ["psql", PG_ADMIN, "-qX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    if shutil.which("psql") is None:
        return "psql not found"
    try:
        psql_admin("SELECT 1")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"PostgreSQL at 127.0.0.1:5432 does not answer: {exc}"
    return None


# -- servers -----------------------------------------------------------------------------


@dataclass
class Running:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    ready_s: float
    authorization: str | None = None
    """core-alerts: an ingest API key, sent the way Prometheus sends it (bearer credentials)."""


def start_server(
    name: str,
    workdir: Path,
    am_binary: str,
    src: Path | None,
    extra_env: dict[str, str] | None = None,
) -> Running:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"{name}.log"
    authorization: str | None = None
    if name == "alertmanager":
        (workdir / "am.yml").write_text(AM_CONFIG)
        cmd = [
            am_binary,
            f"--config.file={workdir / 'am.yml'}",
            f"--storage.path={workdir / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        proc = spawn(cmd, log=log)
        ready = "/-/ready"
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
        env["ALERTS_PORT"] = str(port)
        env["ALERTS_LOG_LEVEL"] = "WARNING"
        env["ALERTS_ENCRYPTION_KEY"] = MASTER_KEY
        if src is not None:  # another source tree than the installed (editable) one
            env["PYTHONPATH"] = str(src)
        env.update(extra_env or {})
        if name == "core-pg":
            psql_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            psql_admin(f"CREATE DATABASE {PG_DB}")
            env["ALERTS_DB_URL"] = PG_URL
        else:
            env["ALERTS_DB_PATH"] = str(workdir / "bench.db")
        authorization = f"Bearer {ingest_key(env)}"
        proc = spawn([str(VENV_BIN / "core-alerts"), "serve"], env=env, log=log)
        ready = "/readyz"
    ready_s = wait_ready(proc, url + ready, log)
    # One tiny request first, so no server pays a first-request cost inside the measurement.
    status = http(url + "/api/v2/alerts", WARMUP_BODY, timeout=30, authorization=authorization)
    if status != 200:
        raise RuntimeError(f"{name}: warm-up POST answered {status}: {tail(log)}")
    return Running(name, proc, url, log, ready_s, authorization)


def ingest_key(env: dict[str, str]) -> str:
    """An ingest-only API key made in the server's database before it starts (as an operator
    would for Prometheus): the measured path includes authentication."""
    made = subprocess.run(
        [str(VENV_BIN / "core-alerts"), "keys", "create", "--name", "bench", "--role", "ingest"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"cannot create an API key: {made.stderr.strip()}")
    return made.stdout.strip()


def stop_server(srv: Running) -> None:
    stop(srv.proc, timeout=30)
    if srv.name == "core-pg":
        with contextlib.suppress(Exception):
            psql_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


# -- one measurement ---------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    batch: int
    dup: float
    conc: int

    @property
    def key(self) -> str:
        return f"B={self.batch} dup={self.dup:g} C={self.conc}"


@dataclass
class Options:
    runs: int
    counts: dict[int, int]
    duration: float
    alertload: Path
    am_binary: str
    base_time: str
    seed: int
    workdir: Path
    keep: bool
    src: Path | None
    server_env: dict[str, str]
    log: Callable[[str], None] = print


def measure(srv: Running, cfg: Config, opt: Options, round_no: int) -> dict[str, Any]:
    count = opt.counts[cfg.batch]
    cmd = [
        str(VENV_BIN / "python"),
        str(opt.alertload),
        f"--url={srv.url}",
        "--format=alertmanager-v2",
        f"--batch={cfg.batch}",
        f"--concurrency={cfg.conc}",
        f"--count={count}",
        f"--duration={opt.duration}",
        f"--dup-ratio={cfg.dup}",
        f"--seed={opt.seed}",
        f"--base-time={opt.base_time}",
        f"--tag={srv.name} {cfg.key} round={round_no}",
    ]
    if srv.authorization:
        cmd.append(f"--header=Authorization: {srv.authorization}")
    pid = srv.proc.pid
    db_pids = pg_backends() if srv.name == "core-pg" else []
    db0 = pg_cpu(db_pids)
    cpu0 = cpu_seconds(pid)
    out_file = srv.log.with_suffix(".alertload.json")
    err_file = srv.log.with_suffix(".alertload.log")
    with out_file.open("wb") as out, err_file.open("ab") as err:
        load = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _children[load.pid] = load
        try:
            code = load.wait(timeout=opt.duration + 300)
        finally:
            stop(load, timeout=5)
    cpu1 = cpu_seconds(pid)
    hwm = status_mb(pid)
    db_cpu = None
    if srv.name == "core-pg":
        db1 = pg_cpu(sorted(set(db_pids) | set(pg_backends())))
        db_cpu = round(sum(v - db0.get(p, 0.0) for p, v in db1.items()), 3)
    lines = [ln for ln in out_file.read_text().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"alertload exited {code} without a result: {tail(err_file)}")
    res = json.loads(lines[-1])
    cpu_s = round(cpu1 - cpu0, 3)
    ok = res["alerts_ok"]
    return {
        "server": srv.name,
        "batch": cfg.batch,
        "dup": cfg.dup,
        "conc": cfg.conc,
        "round": round_no,
        "count": count,
        "alertload_exit": code,
        "alertload": res,
        "alerts_per_s": res["alerts_per_s"],
        "req_per_s": res["req_per_s"],
        "lat_ms": res["lat_ms"],
        "errors": res["error_count"],
        "alerts_ok": ok,
        "cpu_s": cpu_s,
        "cpu_us_per_alert": round(cpu_s / ok * 1e6, 1) if ok else None,
        "db_cpu_s": db_cpu,
        "peak_rss_mb": round(hwm, 1),
        "ready_s": round(srv.ready_s, 2),
    }


def run_all(
    configs: list[Config], servers: list[str], opt: Options, results: list[dict[str, Any]]
) -> None:
    """Append one row per (round, configuration, server) to `results` as they finish."""
    total = len(configs) * opt.runs * len(servers)
    n = 0
    for round_no in range(1, opt.runs + 1):
        for cfg in configs:
            # Rotate who goes first, so a slow drift of the machine favours no one.
            k = (round_no - 1) % len(servers)
            for name in servers[k:] + servers[:k]:
                n += 1
                workdir = opt.workdir / f"r{round_no}-b{cfg.batch}-d{cfg.dup:g}-c{cfg.conc}-{name}"
                workdir.mkdir(parents=True)
                srv = start_server(name, workdir, opt.am_binary, opt.src, opt.server_env)
                try:
                    row = measure(srv, cfg, opt, round_no)
                finally:
                    stop_server(srv)
                if not opt.keep:
                    shutil.rmtree(workdir, ignore_errors=True)
                results.append(row)
                opt.log(
                    f"[{n}/{total}] round {round_no} {cfg.key:<22} {name:<13} "
                    f"{row['alerts_per_s']:>9.0f} alerts/s  {row['req_per_s']:>7.1f} req/s  "
                    f"p99 {row['lat_ms']['p99']:>8.1f} ms  cpu {row['cpu_s']:.2f} s  "
                    f"rss {row['peak_rss_mb']:.0f} MB  errors {row['errors']}"
                )


# -- summary -----------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarize(
    results: list[dict[str, Any]], configs: list[Config], servers: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for cfg in configs:
        mine = [
            r
            for r in results
            if (r["batch"], r["dup"], r["conc"]) == (cfg.batch, cfg.dup, cfg.conc)
        ]
        am_by_round = {r["round"]: r for r in mine if r["server"] == "alertmanager"}
        for name in servers:
            runs = [r for r in mine if r["server"] == name]
            if not runs:
                continue
            row: dict[str, Any] = {
                "batch": cfg.batch,
                "dup": cfg.dup,
                "conc": cfg.conc,
                "server": name,
                "runs": len(runs),
                "alerts_per_s": _median([r["alerts_per_s"] for r in runs]),
                "req_per_s": _median([r["req_per_s"] for r in runs]),
                **{
                    f"{p}_ms": _median([r["lat_ms"][p] for r in runs])
                    for p in ("p50", "p95", "p99", "max")
                },
                "cpu_s": _median([r["cpu_s"] for r in runs]),
                "cpu_us_per_alert": _median([r["cpu_us_per_alert"] for r in runs]),
                "db_cpu_s": _median([r["db_cpu_s"] for r in runs]),
                "peak_rss_mb": _median([r["peak_rss_mb"] for r in runs]),
                "errors": sum(r["errors"] for r in runs),
                "alerts_ok": _median([r["alerts_ok"] for r in runs]),
                # The whole machine's busy cores (others' work included) and the client's.
                "host_cpu_cores": _median([r["alertload"].get("host_cpu_cores") for r in runs]),
                "client_cpu_cores": _median([r["alertload"].get("client_cpu_cores") for r in runs]),
            }
            if name != "alertmanager" and am_by_round:
                # Ratios of the same round (side by side), then the median over rounds.
                pairs = [(r, am_by_round[r["round"]]) for r in runs if r["round"] in am_by_round]
                row["x_am_alerts_per_s"] = _median(
                    [r["alerts_per_s"] / a["alerts_per_s"] for r, a in pairs if a["alerts_per_s"]]
                )
                row["x_am_p99"] = _median(
                    [
                        r["lat_ms"]["p99"] / a["lat_ms"]["p99"]
                        for r, a in pairs
                        if a["lat_ms"]["p99"]
                    ]
                )
                row["x_am_cpu_per_alert"] = _median(
                    [
                        r["cpu_us_per_alert"] / a["cpu_us_per_alert"]
                        for r, a in pairs
                        if r["cpu_us_per_alert"] and a["cpu_us_per_alert"]
                    ]
                )
            rows.append(row)
    return rows


def _f(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def markdown(rows: list[dict[str, Any]], runs: int) -> str:
    head = (
        "| B | dup | C | server | alerts/s | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| CPU s | CPU µs/alert | DB CPU s | peak RSS MB | errors "
        "| ×AM alerts/s | ×AM p99 | ×AM CPU/alert |\n"
        "|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    lines = []
    for r in rows:
        lines.append(
            f"| {r['batch']} | {r['dup']:g} | {r['conc']} | {r['server']} "
            f"| {_f(r['alerts_per_s'])} | {_f(r['req_per_s'], 1)} "
            f"| {_f(r['p50_ms'], 1)} | {_f(r['p95_ms'], 1)} | {_f(r['p99_ms'], 1)} "
            f"| {_f(r['max_ms'], 1)} | {_f(r['cpu_s'], 2)} | {_f(r['cpu_us_per_alert'])} "
            f"| {_f(r['db_cpu_s'], 2)} | {_f(r['peak_rss_mb'])} | {r['errors']} "
            f"| {_f(r.get('x_am_alerts_per_s'), 2)} | {_f(r.get('x_am_p99'), 2)} "
            f"| {_f(r.get('x_am_cpu_per_alert'), 2)} |"
        )
    note = (
        f"\nMedians of {runs} run(s) per cell; ×AM = core-alerts / Alertmanager, computed per "
        "round (same traffic, servers run one after the other) and then the median. "
        "CPU s = utime+stime of the server process and its decode workers during the load; "
        "DB CPU s = the PostgreSQL backends serving core-alerts; peak RSS = VmHWM of the "
        "server process plus its workers'.\n"
    )
    return head + "\n".join(lines) + "\n" + note


# -- machine -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "kernel": platform.release()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_gib"] = round(int(line.split()[1]) / 2**20, 1)
    info["python"] = platform.python_version()
    return info


def versions(am_binary: str) -> dict[str, str]:
    found = {}
    with contextlib.suppress(Exception):
        out = subprocess.run([am_binary, "--version"], capture_output=True, text=True, timeout=10)
        found["alertmanager"] = (out.stdout or out.stderr).splitlines()[0]
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["psql", PG_ADMIN, "-Atqc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        found["postgresql"] = out.stdout.strip()
    return found


def git(*args: str) -> str:
    """Read-only git queries (no optional locks, so not even the index is refreshed)."""
    out = subprocess.run(
        ["git", "--no-optional-locks", "-C", str(ROOT), *args],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.stdout.decode().strip()


def source_tree(commit: str | None, src: Path | None, workdir: Path) -> tuple[Path | None, dict]:
    """Where core_alerts is imported from, and how to name that code in the results."""
    if src is not None:
        return src.resolve(), {"source": str(src.resolve())}
    code: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        code["head"] = git("rev-parse", "HEAD")
    if commit is None:
        with contextlib.suppress(Exception):
            code["src_modified"] = git("status", "--porcelain", "--", "src").splitlines()
        return None, {"source": "work tree", **code}
    rev = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    export = workdir / f"src-{rev[:12]}"
    export.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(export)], input=archive, check=True, timeout=120)
    return export / "src", {"source": "commit", "commit": rev, **code}


# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench/run",
        description="core-alerts (SQLite, PostgreSQL) vs Alertmanager 0.25 under alertload.",
    )
    ap.add_argument("--runs", type=int, help="rounds per configuration (default 3; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="smoke mode: 1 round, small counts")
    ap.add_argument("--full", action="store_true", help="also concurrency 16")
    ap.add_argument(
        "--count",
        type=int,
        help=f"alerts per run, any batch size (default {DEFAULT_COUNTS}; quick {QUICK_COUNTS})",
    )
    ap.add_argument("--duration", type=float, help="cap on seconds per run (default 15; quick 5)")
    ap.add_argument("--batches", default="1,100,1000", help="batch sizes (default 1,100,1000)")
    ap.add_argument("--dups", default="0,0.9", help="duplicate ratios (default 0,0.9)")
    ap.add_argument("--concurrency", help="concurrency levels (default 4; 4,16 with --full)")
    ap.add_argument("--servers", default=",".join(SERVERS), help=f"subset of {','.join(SERVERS)}")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--alertload", type=Path, default=DEFAULT_ALERTLOAD)
    ap.add_argument("--alertmanager", default=DEFAULT_AM, help="Alertmanager binary")
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="directory for the raw JSON results",
    )
    ap.add_argument("--keep", action="store_true", help="keep server logs and data")
    ap.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="ALERTS_KEY=VALUE",
        help="a setting for the core-alerts servers (repeatable), e.g. "
        "ALERTS_PROCESSING__DECODE_WORKERS=2",
    )
    which = ap.add_mutually_exclusive_group()
    which.add_argument(
        "--commit",
        help="benchmark this git revision of src/ (exported with `git archive` to a temporary "
        "directory; the work tree is not touched), not the work tree",
    )
    which.add_argument("--src", type=Path, help="benchmark the core_alerts package under DIR")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    runs = a.runs or (1 if a.quick else 3)
    batches = [int(x) for x in a.batches.split(",")]
    dups = [float(x) for x in a.dups.split(",")]
    concs = [int(x) for x in (a.concurrency or ("4,16" if a.full else "4")).split(",")]
    base_counts = QUICK_COUNTS if a.quick else DEFAULT_COUNTS
    counts = {b: a.count or base_counts.get(b, base_counts[1000]) for b in batches}
    duration = a.duration or (5.0 if a.quick else 15.0)
    servers = [s for s in a.servers.split(",") if s]
    server_env = dict(item.split("=", 1) for item in a.server_env if "=" in item)
    if len(server_env) != len(a.server_env) or any(not k.startswith("ALERTS_") for k in server_env):
        sys.exit("--server-env takes ALERTS_KEY=VALUE")
    unknown = set(servers) - set(SERVERS)
    if unknown:
        sys.exit(f"unknown servers {sorted(unknown)}; choose from {SERVERS}")
    if not a.alertload.is_file():
        sys.exit(f"alertload not found at {a.alertload}; pass --alertload")
    if "alertmanager" in servers and not Path(a.alertmanager).is_file():
        sys.exit(f"Alertmanager binary {a.alertmanager} not found; pass --alertmanager")
    if "core-pg" in servers and (why := pg_available()):
        print(f"skipping core-pg: {why}", file=sys.stderr)
        servers.remove("core-pg")

    configs = [Config(b, d, c) for c in concs for b in batches for d in dups]
    now = dt.datetime.now(dt.UTC)
    base_time = now.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    # SIGINT too: a shell starts background jobs with SIGINT ignored, and `kill -INT` must
    # still stop the servers. SIGHUP stays ignored under nohup.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_signal)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _on_signal)
    workdir = Path(tempfile.mkdtemp(prefix="core-alerts-bench-"))
    try:
        src, code = source_tree(a.commit, a.src, workdir)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        sys.exit(f"cannot export the code to benchmark: {exc}")
    opt = Options(
        runs=runs,
        counts=counts,
        duration=duration,
        alertload=a.alertload,
        am_binary=a.alertmanager,
        base_time=base_time,
        seed=a.seed,
        workdir=workdir,
        keep=a.keep,
        src=src,
        server_env=server_env,
        log=lambda s: print(s, file=sys.stderr, flush=True),
    )
    meta = {
        "started": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(a.alertmanager),
        "options": {
            "runs": runs,
            "counts": counts,
            "duration": duration,
            "servers": servers,
            "configs": [c.key for c in configs],
            "seed": a.seed,
            "base_time": base_time,
            "quick": a.quick,
            "full": a.full,
            "server_env": server_env,
        },
        "argv": sys.argv[1:] if argv is None else argv,
        "code": code,
    }
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    status = 0
    try:
        run_all(configs, servers, opt, results)
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"\ninterrupted ({str(exc) or 'Ctrl-C'}); stopping servers", file=sys.stderr)
        status = 130
    except Exception as exc:
        print(f"\nbenchmark failed: {exc!r}; stopping servers", file=sys.stderr)
        status = 1
    finally:
        stop_all()
        if a.keep:
            print(f"logs and data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not results:
        return status or 1
    summary = summarize(results, configs, servers)
    meta["elapsed_s"] = round(time.perf_counter() - t0, 1)
    a.out.mkdir(parents=True, exist_ok=True)
    out = a.out / f"{now.strftime('%Y%m%dT%H%M%SZ')}{'-quick' if a.quick else ''}.json"
    out.write_text(json.dumps({**meta, "summary": summary, "runs": results}, indent=1) + "\n")
    print(markdown(summary, runs))
    print(
        f"raw results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}",
        file=sys.stderr,
    )
    if any(r["errors"] for r in results):
        print("some runs had errors (see the errors column)", file=sys.stderr)
        status = status or 2
    return status


if __name__ == "__main__":
    sys.exit(main())
