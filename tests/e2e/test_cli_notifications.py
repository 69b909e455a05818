"""`core-alerts config`, `dlq` and `template` against a real server and a failing webhook."""

from __future__ import annotations

import http.server
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cli import cli, ok
from tests.support.server import ServerProcess

CONFIG = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{port}/hook?token=SECRET
"""


class _Refuse(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(400)  # permanent: a dead letter at once
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_hook() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    (tmp_path / "core.yml").write_text(
        json.dumps({"core_alerts": {"notifications": {"outbound_allow": ["127.0.0.1/32"]}}})
    )
    srv = ServerProcess(tmp_path, env={"ALERTS_CONFIG": str(tmp_path / "core.yml")}).start()
    yield srv
    srv.stop()


def test_config_apply_show_dlq_list_and_replay(
    server: ServerProcess, refusing_hook: int, tmp_path: Path
) -> None:
    env = {"CORE_ALERTS_TOKEN": server.token(), "CORE_ALERTS_URL": server.url}
    bad = tmp_path / "bad.yml"
    bad.write_text("route:\n  receiver: nobody\nreceivers: []\n")
    refused = cli("config", "apply", str(bad), env=env)
    assert refused.returncode == 1 and "line 2: undefined receiver 'nobody'" in refused.stderr
    good = tmp_path / "am.yml"
    good.write_text(CONFIG.format(port=refusing_hook))
    assert "config version 1 in force" in cli("config", "apply", str(good), env=env).stderr
    shown = ok("config", "show", env=env)
    assert "<secret>" in shown and "SECRET" not in shown

    ok("send", "--title", "disk full", "--label", "alertname=DiskFull", env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dead = json.loads(ok("dlq", "list", "-o", "json", env=env))
        if dead:
            break
        time.sleep(0.2)
    assert len(dead) == 1 and dead[0]["last_error"].startswith("answered 400")
    table = ok("dlq", "list", env=env)
    assert dead[0]["notification"]["id"] in table and "hook" in table
    usage = cli("dlq", "replay", env=env)
    assert usage.returncode == 1 and "--all" in usage.stderr
    replayed = cli("dlq", "replay", dead[0]["notification"]["id"], env=env)
    assert replayed.returncode == 0 and "1 notification(s) queued again" in replayed.stderr


def test_template_render_defaults_own_templates_and_errors(tmp_path: Path) -> None:
    text = ok("template", "render", "--channel", "slack_configs", "--field", "title")
    assert text.strip().startswith("[FIRING:1]") and "DiskFull" in text
    own = ok("template", "render", "-t", "{{ common_labels.alertname }}: {{ alerts|length }}",
             "--status", "resolved")  # fmt: skip
    assert own.strip() == "DiskFull: 1"
    escaped = ok("template", "render", "-t", "{{ '<b>' }}", "--escape", "html")
    assert escaped.strip() == "&lt;b&gt;"
    broken = cli("template", "render", "-t", "{% for %}")
    assert broken.returncode == 1 and "template syntax error on line 1" in broken.stderr
    field = cli("template", "render", "--channel", "slack_configs", "--field", "nope")
    assert field.returncode == 1 and "--field must be one of" in field.stderr


def test_sighup_reloads_the_config_file_and_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    am = tmp_path / "am.yml"
    am.write_text("route:\n  receiver: first\nreceivers:\n  - name: first\n")
    (tmp_path / "core.yml").write_text(
        json.dumps({"core_alerts": {"notifications": {"config_file": str(am)}}})
    )
    srv = ServerProcess(tmp_path, env={"ALERTS_CONFIG": str(tmp_path / "core.yml")}).start()
    try:

        def receivers() -> list[str]:
            r = httpx.get(f"{srv.url}/api/v2/receivers", headers=srv.headers, timeout=10)
            return [x["name"] for x in r.json()]

        def wait_for_receivers(expected: list[str]) -> None:
            deadline = time.monotonic() + 30
            while receivers() != expected:
                assert time.monotonic() < deadline, f"still {receivers()}, not {expected}"
                time.sleep(0.1)

        assert receivers() == ["first"]
        am.write_text("route:\n  receiver: second\nreceivers:\n  - name: second\n")
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_receivers(["second"])
        am.write_text("route:\n  receiver: gone\nreceivers: []\n")
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "config reload failed" not in srv.log.read_text():
            assert time.monotonic() < deadline, "the failed reload was not logged"
            time.sleep(0.1)
        assert receivers() == ["second"]  # the old config stays in force
        assert srv.proc.poll() is None
    finally:
        srv.stop()


def test_config_check_validates_offline_like_amtool_check_config(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(CONFIG.format(port=9))
    checked = cli("config", "check", str(good))
    assert checked.returncode == 0 and "OK, 1 receiver(s), 1 integration(s)" in checked.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "route:\n  receiver: r\nreceivers:\n  - name: r\n    slack_configs:\n"
        "      - channel: '#x'\n        colour: red\n"
    )
    refused = cli("config", "check", str(bad))
    assert refused.returncode == 1
    assert "line 4: receiver 'r': slack_configs[0]" in refused.stderr and "colour" in refused.stderr
    utf8 = tmp_path / "utf8.yml"
    utf8.write_text(
        "route:\n  receiver: r\n  routes:\n    - matchers: ['\"a.b\"=c']\n      receiver: r\n"
        "receivers:\n  - name: r\n"
    )
    assert cli("config", "check", str(utf8)).returncode == 1
    assert cli("config", "check", "--matcher-syntax", "utf8", str(utf8)).returncode == 0
