"""The Apprise channel against a real receiver on 127.0.0.1 (Apprise's json:// plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.apprise import SPEC, AppriseChannel, AppriseConfig
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.outbound import OutboundPolicy
from tests.support.receiver import Answer, Receiver, Seen
from tests.unit.notify.channels.builders import (
    HOSTILE,
    alert,
    notification,
    rejection,
    undescribed,
)

TOKEN = "tok-9f8e7d"
_BY_PATH = {
    "ok": Answer(body="ok"),
    "fail": Answer(status=500, body="boom"),
    "hang": Answer(kind="hang"),
    "reset": Answer(kind="reset"),
}


class Services(Receiver):
    """Answers by the first path segment: /ok 200, /fail 500, /hang never, /reset drops."""

    def respond(self, seen: Seen) -> Answer:
        return _BY_PATH[seen.path.split("/")[1]]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


@pytest.fixture
async def server() -> AsyncIterator[Services]:
    async with Services() as services:
        yield services


def url(server: Receiver, path: str, query: str = "") -> str:
    return f"json://127.0.0.1:{server.port}/{path}/{TOKEN}?rto=5{query}"


def config(urls: list[str], **overrides: Any) -> AppriseConfig:
    return msgspec.convert({"urls": urls, **overrides}, AppriseConfig, strict=False)


def titled(status: str = "firing", nid: str = "n-0001") -> Notification:
    """One alert with a title, no annotations, and hostile data in a label."""
    disk_full = alert("DiskFull", status=status, team="db", note=HOSTILE)
    disk_full = msgspec.structs.replace(disk_full, title="Disk full", annotations={})
    return notification(disk_full, nid=nid, external_url="")


# --- delivery --------------------------------------------------------------------------------


async def test_json_url_receives_title_message_and_type(
    server: Services, ctx: ChannelContext
) -> None:
    await AppriseChannel(config([url(server, "ok")]), ctx).send(titled())

    [seen] = server.requests
    assert (seen.method, seen.path) == ("POST", f"/ok/{TOKEN}")
    assert seen.headers["Idempotency-Key"] == "n-0001"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json()["title"] == "[FIRING:1] DiskFull"
    assert seen.json()["message"] == "[FIRING] Disk full"  # Apprise trims the final newline
    assert seen.json()["type"] == "failure"


async def test_alert_data_is_not_rendered_and_is_escaped_for_html(
    server: Services, ctx: ChannelContext
) -> None:
    text = config([url(server, "ok")], body="{{ common_labels.note }}")
    await AppriseChannel(text, ctx).send(titled())
    assert server.requests[0].json()["message"] == HOSTILE  # text: verbatim, never rendered

    html = config(
        [url(server, "ok", "&format=html")],
        body="<b>{{ common_labels.note }}</b>",
        body_format="html",
    )
    await AppriseChannel(html, ctx).send(titled())
    assert server.requests[1].json()["message"] == (
        "<b>&lt;!channel&gt; {{ 7*7 }} &lt;script&gt;</b>"
    )

    markdown = config(
        [url(server, "ok", "&format=markdown")],
        body="**{{ common_labels.note }}**",
        body_format="markdown",
    )
    await AppriseChannel(markdown, ctx).send(titled())
    assert server.requests[2].json()["message"] == (r"**\<\!channel\> \{\{ 7\*7 \}\} \<script\>**")
    assert all("49" not in r.json()["message"] for r in server.requests)


async def test_default_body_in_html_format_is_an_html_list(
    server: Services, ctx: ChannelContext
) -> None:
    cfg = config([url(server, "ok", "&format=html")], body_format="html")
    await AppriseChannel(cfg, ctx).send(titled())
    assert server.requests[0].json()["message"] == "<ul><li><b>[FIRING]</b> Disk full</li></ul>"


async def test_send_resolved(server: Services, ctx: ChannelContext) -> None:
    await AppriseChannel(config([url(server, "ok")]), ctx).send(titled("resolved"))
    assert server.requests[0].json()["type"] == "success"
    assert server.requests[0].json()["title"] == "[RESOLVED] DiskFull"

    quiet = config([url(server, "ok")], send_resolved=False)
    await AppriseChannel(quiet, ctx).send(titled("resolved", nid="n-2"))
    assert len(server.requests) == 1


# --- failures --------------------------------------------------------------------------------


async def test_server_error_is_retryable_and_names_the_scheme_only(
    server: Services, ctx: ChannelContext
) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await AppriseChannel(config([url(server, "fail")]), ctx).send(titled())
    assert failed.value.retryable is True
    assert failed.value.message == "urls[0] (json://): Apprise reported a failed delivery"
    assert TOKEN not in failed.value.message
    assert len(server.requests) == 1


async def test_reset_connection_is_retryable(server: Services, ctx: ChannelContext) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await AppriseChannel(config([url(server, "reset")]), ctx).send(titled())
    assert failed.value.retryable is True
    assert TOKEN not in failed.value.message


async def test_hanging_server_times_out_retryably(server: Services, ctx: ChannelContext) -> None:
    cfg = config([url(server, "hang")], timeout=0.3)
    with pytest.raises(DeliveryFailed) as failed:
        await AppriseChannel(cfg, ctx).send(titled())
    assert failed.value.retryable is True
    assert "urls[0] (json://)" in failed.value.message


async def test_a_retry_skips_the_urls_already_delivered(
    server: Services, ctx: ChannelContext
) -> None:
    channel = AppriseChannel(config([url(server, "ok"), url(server, "fail")]), ctx)
    for _ in range(2):
        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(titled())
        assert failed.value.message.startswith("urls[1] (json://)")
    assert sorted(server.paths()) == [f"/fail/{TOKEN}", f"/fail/{TOKEN}", f"/ok/{TOKEN}"]


async def test_loopback_is_refused_unless_allowed(server: Services, ctx: ChannelContext) -> None:
    for policy in (OutboundPolicy(), None):
        with pytest.raises(DeliveryFailed) as failed:
            await AppriseChannel(config([url(server, "ok")]), replace(ctx, policy=policy)).send(
                titled()
            )
        assert failed.value.retryable is False
        assert "loopback" in failed.value.message
        assert TOKEN not in failed.value.message
    assert server.requests == []


async def test_redirects_are_not_followed(server: Services, ctx: ChannelContext) -> None:
    async with Receiver() as redirecting:
        redirecting.queue(Answer(status=302, headers={"Location": server.url("/ok/redirected")}))
        cfg = config([f"json://127.0.0.1:{redirecting.port}/hook?redirect=yes"])
        with pytest.raises(DeliveryFailed):
            await AppriseChannel(cfg, ctx).send(titled())
    assert len(redirecting.requests) == 1
    assert server.requests == []


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"urls": ["nonsense://secret-token"]}, "urls[0]: not a valid or not an available"),
        ({"urls": ["json://"]}, "not a valid or not an available Apprise URL"),
        ({"urls": ["syslog://"]}, "syslog:// notifies the core-alerts host itself"),
        ({"urls": []}, "Expected `array` of length >= 1"),
        ({}, "Object missing required field `urls`"),
        ({"urls": ["json://h.example/x"], "bogus": 1}, "unknown field `bogus`"),
        ({"urls": ["json://h.example/x"], "body_format": "rtf"}, "Invalid enum value 'rtf'"),
        ({"urls": ["json://h.example/x"], "body": ""}, "body must not be empty"),
    ],
)
def test_config_validation(
    entry: dict[str, Any], message: str, caplog: pytest.LogCaptureFixture
) -> None:
    rejected = rejection(AppriseConfig, entry)
    assert message in rejected
    assert "secret-token" not in rejected
    assert "secret-token" not in caplog.text  # Apprise's own log lines hide the URL too


def test_config_defaults_and_spec() -> None:
    cfg = config(["tgram://123456789:abcdefg_hijklmnop/12315544/"])
    assert cfg.send_resolved is True
    assert cfg.body_format == "text"
    assert set(AppriseConfig.SECRETS) == {"urls"}
    assert (SPEC.config_key, SPEC.integration) == ("apprise_configs", "apprise")
    assert SPEC.defaults({"smtp_from": "x@example.org"}) == {}


def test_schema_carries_descriptions() -> None:
    props = msgspec.json.schema(AppriseConfig)["$defs"]["AppriseConfig"]["properties"]
    assert set(props) >= {"urls", "title", "body", "body_format", "send_resolved", "timeout"}
    assert undescribed(AppriseConfig) == {}
    assert props["urls"]["description"].startswith("Secret")
    assert props["body_format"]["enum"] == ["html", "markdown", "text"]
