"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import msgspec
import pytest
import trustme
from aiosmtpd.smtp import SMTP as SMTPServerProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from core_alerts.domain.notification import Notification
from core_alerts.notify.channels.base import ChannelContext, DeliveryFailed
from core_alerts.notify.channels.email import SPEC, EmailChannel, EmailConfig, session
from core_alerts.outbound import AllowList, OutboundBlocked, OutboundPolicy, admit_host
from core_alerts.outbound.policy import IPAddress
from tests.support.services import free_port
from tests.unit.notify.channels.builders import (
    HOSTILE,
    LOOPBACK,
    alert,
    notification,
    rejection,
    undescribed,
)

SECRET = "s3cret-pass"


# --- a recording SMTP server ---------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: bytes | None


@dataclass
class Handler:
    """Records every message; answers RCPT and DATA as the test says."""

    rcpt_reply: Callable[[str], str] = lambda _address: "250 OK"
    data_reply: str = "250 OK"
    cram_secret: bytes | None = None
    received: list[Received] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTPServerProtocol, sess: Session, env: Envelope, address: str, _o: Any
    ) -> str:
        reply = self.rcpt_reply(address)
        if reply.startswith("250"):
            env.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTPServerProtocol, sess: Session, env: Envelope) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        assert isinstance(env.content, bytes)
        assert server.transport is not None
        parsed = message_from_bytes(env.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                mail_from=str(env.mail_from),
                rcpt_tos=list(env.rcpt_tos),
                message=parsed,
                tls=server.transport.get_extra_info("ssl_object") is not None,
                login=getattr(sess.auth_data, "login", None),
            )
        )
        return "250 OK"


class CramHandler(Handler):
    """Adds AUTH CRAM-MD5 (aiosmtpd has no built-in one)."""

    async def auth_CRAM__MD5(self, server: SMTPServerProtocol, args: list[str]) -> AuthResult:
        challenge = b"<1896.697170952@mail.test>"
        answer = await server.challenge_auth(challenge)
        assert isinstance(answer, bytes)
        user, _, digest = answer.partition(b" ")
        assert self.cram_secret is not None
        expected = hmac.new(self.cram_secret, challenge, "md5").hexdigest().encode()
        ok = user == b"alice" and hmac.compare_digest(digest, expected)
        self.mechanisms.append("CRAM-MD5")
        return AuthResult(success=ok, handled=False, auth_data=LoginPassword(user, b""))


def password_check(handler: Handler) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTPServerProtocol, sess: Session, env: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        handler.mechanisms.append(mechanism)
        ok = data.login == b"alice" and data.password == SECRET.encode()
        return AuthResult(success=ok, handled=False, auth_data=data)

    return authenticate


@dataclass
class SmtpServer:
    handler: Handler
    port: int
    connections: int = 0


@pytest.fixture
def certs() -> tuple[trustme.CA, ssl.SSLContext, ssl.SSLContext]:
    """A CA, a server context for 127.0.0.1, and one for mail.test only."""
    ca = trustme.CA()
    by_ip = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(by_ip)
    by_name = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mail.test").configure_cert(by_name)
    return ca, by_ip, by_name


ServerFactory = Callable[..., Awaitable[SmtpServer]]


@pytest.fixture
async def smtp_server() -> AsyncIterator[ServerFactory]:
    servers: list[asyncio.Server] = []

    async def start(
        handler: Handler | None = None,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit: ssl.SSLContext | None = None,
        exclude: Sequence[str] = (),
        auth_require_tls: bool = True,
    ) -> SmtpServer:
        handler = handler or Handler()
        record = SmtpServer(handler=handler, port=0)

        def protocol() -> SMTPServerProtocol:
            record.connections += 1
            return SMTPServerProtocol(
                handler,
                hostname="mail.test",
                tls_context=starttls,
                authenticator=password_check(handler),
                auth_exclude_mechanism=list(exclude),
                auth_require_tls=auth_require_tls,
            )

        server = await asyncio.get_running_loop().create_server(
            protocol, "127.0.0.1", 0, ssl=implicit
        )
        servers.append(server)
        record.port = server.sockets[0].getsockname()[1]
        return record

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


# --- channel helpers -------------------------------------------------------------------------


def config(port: int, **overrides: Any) -> EmailConfig:
    entry: dict[str, Any] = {
        "to": "Ops <ops@example.org>, oncall@example.org",
        "from": "core-alerts <alerts@example.org>",
        "smarthost": f"127.0.0.1:{port}",
        "require_tls": False,
        "timeout": 5,
    }
    entry.update(overrides)
    return msgspec.convert(entry, EmailConfig, strict=False)


def mail(status: str = "firing", nid: str = "n-0001") -> Notification:
    """One DiskFull alert of team db, with hostile data in a label and in its summary."""
    disk_full = alert(
        "DiskFull", status=status, summary=f"disk is full {HOSTILE}", team="db", note=HOSTILE
    )
    return notification(disk_full, nid=nid, external_url="")


def over_tls(port: int, ca: trustme.CA, **overrides: Any) -> EmailConfig:
    """config() with STARTTLS required and `ca` the only CA trusted."""
    tls_config = {"ca": ca.cert_pem.bytes().decode()}
    return config(port, require_tls=True, tls_config=tls_config, **overrides)


def parts(message: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): str(p.get_content()) for p in message.iter_parts()}


# --- delivery ------------------------------------------------------------------------------


async def test_plain_delivery_sends_both_parts_with_escaped_html(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    cfg = config(server.port, headers={"X-Team": "{{ common_labels.team }}"})

    await EmailChannel(cfg, ctx).send(mail())

    [got] = server.handler.received
    assert got.mail_from == "alerts@example.org"
    assert got.rcpt_tos == ["ops@example.org", "oncall@example.org"]
    assert got.tls is False
    msg = got.message
    assert msg["From"] == "core-alerts <alerts@example.org>"
    assert msg["To"] == "Ops <ops@example.org>, oncall@example.org"
    assert msg["Subject"] == f"[FIRING:1] DiskFull (prod web-1 {HOSTILE} db)"
    assert msg["Message-ID"] == "<n-0001@core-alerts>"
    assert msg["X-Idempotency-Key"] == "n-0001"
    assert msg["X-Team"] == "db"
    assert msg["Date"].datetime.timestamp() == 1_700_000_000  # the injected clock
    assert msg.get_content_type() == "multipart/alternative"
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    assert f"note = {HOSTILE}" in body["text/plain"]
    html = body["text/html"]
    assert "&lt;!channel&gt; {{ 7*7 }} &lt;script&gt;" in html
    assert "<script>" not in html and "49" not in html
    assert '<a href="http://prometheus.example/graph?g0.expr=up&amp;n=1">' in html


async def test_line_breaks_in_alert_data_cannot_add_headers(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    cfg = config(server.port, headers={"Subject": "{{ common_labels.note }}"})
    breaking = alert(note="hi\r\nBcc: victim@example.net\r\n")
    await EmailChannel(cfg, ctx).send(notification(breaking))

    [got] = server.handler.received
    assert got.message["Subject"] == "hi Bcc: victim@example.net"
    assert got.message["Bcc"] is None
    assert got.rcpt_tos == ["ops@example.org", "oncall@example.org"]


async def test_text_only_and_custom_templates(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    cfg = config(server.port, html="", text="{{ status }} {{ alerts|length }}")
    await EmailChannel(cfg, ctx).send(mail())
    msg = server.handler.received[0].message
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().strip() == "firing 1"


async def test_retries_carry_the_same_message_id(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    channel = EmailChannel(config(server.port), ctx)
    await channel.send(mail(nid="same"))
    await channel.send(mail(nid="same"))
    ids = {r.message["Message-ID"] for r in server.handler.received}
    assert ids == {"<same@core-alerts>"}


async def test_send_resolved(smtp_server: ServerFactory, ctx: ChannelContext) -> None:
    server = await smtp_server()
    await EmailChannel(config(server.port), ctx).send(mail("resolved"))
    assert server.connections == 0  # send_resolved defaults to false for email

    cfg = config(server.port, send_resolved=True)
    await EmailChannel(cfg, ctx).send(mail("resolved"))
    assert server.handler.received[0].message["Subject"].startswith("[RESOLVED] DiskFull")


# --- TLS and authentication -------------------------------------------------------------------


@pytest.mark.parametrize(("excluded", "mechanism"), [("LOGIN", "PLAIN"), ("PLAIN", "LOGIN")])
async def test_starttls_with_auth_plain_or_login(
    smtp_server: ServerFactory, ctx: ChannelContext, certs: Any, excluded: str, mechanism: str
) -> None:
    ca, by_ip, _ = certs
    server = await smtp_server(starttls=by_ip, exclude=[excluded])
    cfg = over_tls(server.port, ca, auth_username="alice", auth_password=SECRET)
    await EmailChannel(cfg, ctx).send(mail())
    [got] = server.handler.received
    assert got.tls is True
    assert got.login == b"alice"
    assert server.handler.mechanisms == [mechanism]


async def test_auth_cram_md5(smtp_server: ServerFactory, ctx: ChannelContext, certs: Any) -> None:
    ca, by_ip, _ = certs
    handler = CramHandler(cram_secret=b"cram-key")
    server = await smtp_server(handler, starttls=by_ip)
    cfg = over_tls(server.port, ca, auth_username="alice", auth_secret="cram-key")
    await EmailChannel(cfg, ctx).send(mail())
    assert handler.mechanisms == ["CRAM-MD5"]
    assert len(handler.received) == 1


async def test_wrong_password_is_not_retryable(
    smtp_server: ServerFactory, ctx: ChannelContext, certs: Any
) -> None:
    ca, by_ip, _ = certs
    server = await smtp_server(starttls=by_ip, exclude=["LOGIN"])
    cfg = over_tls(server.port, ca, auth_username="alice", auth_password="wrong")
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(cfg, ctx).send(mail())
    assert failed.value.retryable is False
    assert failed.value.status == 535
    assert "wrong" not in failed.value.message
    assert server.handler.received == []


async def test_tls_server_name_is_verified(
    smtp_server: ServerFactory, ctx: ChannelContext, certs: Any
) -> None:
    ca, _, by_name = certs
    server = await smtp_server(starttls=by_name)
    ca_pem = ca.cert_pem.bytes().decode()
    named = config(
        server.port, require_tls=True, tls_config={"ca": ca_pem, "server_name": "mail.test"}
    )
    await EmailChannel(named, ctx).send(mail())
    assert server.handler.received[0].tls is True

    unnamed = config(server.port, require_tls=True, tls_config={"ca": ca_pem})
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(unnamed, ctx).send(mail())
    assert failed.value.retryable is False
    assert "TLS" in failed.value.message
    assert len(server.handler.received) == 1


async def test_untrusted_certificate_fails_unless_verification_is_skipped(
    smtp_server: ServerFactory, ctx: ChannelContext, certs: Any
) -> None:
    _, by_ip, _ = certs
    server = await smtp_server(starttls=by_ip)
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(server.port, require_tls=True), ctx).send(mail())
    assert failed.value.retryable is False
    assert server.handler.received == []

    skip = config(server.port, require_tls=True, tls_config={"insecure_skip_verify": True})
    await EmailChannel(skip, ctx).send(mail())
    assert server.handler.received[0].tls is True


async def test_port_465_means_implicit_tls(
    smtp_server: ServerFactory,
    ctx: ChannelContext,
    certs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca, by_ip, _ = certs
    server = await smtp_server(implicit=by_ip)
    # Binding 465 needs privileges: let the random port stand for it.
    monkeypatch.setattr(session, "IMPLICIT_TLS_PORT", server.port)
    cfg = over_tls(server.port, ca)
    await EmailChannel(cfg, ctx).send(mail())
    assert server.handler.received[0].tls is True


async def test_require_tls_fails_without_starttls(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(server.port, require_tls=True), ctx).send(mail())
    assert failed.value.retryable is False
    assert "STARTTLS" in failed.value.message
    assert server.handler.received == []


async def test_password_is_not_sent_in_clear_text(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server(auth_require_tls=False)
    cfg = config(server.port, auth_username="alice", auth_password=SECRET)
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(cfg, ctx).send(mail())
    assert failed.value.retryable is False
    assert "unencrypted" in failed.value.message
    assert server.handler.mechanisms == []  # the server offered AUTH; it was not used
    assert server.handler.received == []


# --- failures ----------------------------------------------------------------------------------


async def test_451_is_retryable(smtp_server: ServerFactory, ctx: ChannelContext) -> None:
    server = await smtp_server(Handler(data_reply="451 4.7.1 greylisted, try later"))
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(server.port), ctx).send(mail())
    assert failed.value.retryable is True
    assert failed.value.status == 451


async def test_550_is_not_retryable(smtp_server: ServerFactory, ctx: ChannelContext) -> None:
    server = await smtp_server(Handler(rcpt_reply=lambda _a: "550 5.1.1 no such user"))
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(server.port), ctx).send(mail())
    assert failed.value.retryable is False
    assert failed.value.status == 550
    assert "no such user" in failed.value.message


async def test_one_refused_recipient_does_not_fail_the_others(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    def reply(address: str) -> str:
        return "550 5.1.1 no such user" if address.startswith("oncall") else "250 OK"

    server = await smtp_server(Handler(rcpt_reply=reply))
    await EmailChannel(config(server.port), ctx).send(mail())
    assert server.handler.received[0].rcpt_tos == ["ops@example.org"]


async def test_connection_refused_is_retryable(ctx: ChannelContext) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(free_port()), ctx).send(mail())
    assert failed.value.retryable is True


async def test_silent_server_times_out_retryably(ctx: ChannelContext) -> None:
    async def never_greet(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _r.read()  # hold the connection open until the client leaves
        w.close()

    silent = await asyncio.start_server(never_greet, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await EmailChannel(config(port, timeout=0.2), ctx).send(mail())
    finally:
        silent.close()
        await silent.wait_closed()
    assert failed.value.retryable is True


async def test_loopback_is_refused_unless_allowed(
    smtp_server: ServerFactory, ctx: ChannelContext
) -> None:
    server = await smtp_server()
    strict = OutboundPolicy()
    with pytest.raises(DeliveryFailed) as failed:
        await EmailChannel(config(server.port), replace(ctx, policy=strict)).send(mail())
    assert failed.value.retryable is False
    assert "loopback" in failed.value.message
    assert server.connections == 0
    # No policy in the context means the default one: still refused.
    with pytest.raises(DeliveryFailed):
        await EmailChannel(config(server.port), replace(ctx, policy=None)).send(mail())
    assert server.connections == 0


class StaticResolver:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self._table = table

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        if host not in self._table:
            raise OSError(f"{host}: no such host")
        return [ipaddress.ip_address(a) for a in self._table[host]]


async def test_admit_host_checks_every_resolved_address() -> None:
    names = StaticResolver({"mail.test": ["127.0.0.1"], "mixed.test": ["8.8.8.8", "10.0.0.1"]})
    loopback = OutboundPolicy(allow=AllowList.parse(LOOPBACK))
    allowed = await admit_host("mail.test", 25, loopback, resolver=names)
    assert [str(a) for a in allowed] == ["127.0.0.1"]
    with pytest.raises(OutboundBlocked, match="loopback"):
        await admit_host("mail.test", 25, OutboundPolicy(), resolver=names)
    with pytest.raises(OutboundBlocked, match="private"):
        await admit_host("mixed.test", 25, OutboundPolicy(), resolver=names)
    with pytest.raises(OutboundBlocked, match="port 25"):
        await admit_host("mail.test", 25, OutboundPolicy(allowed_ports=frozenset({587})))


# --- configuration -------------------------------------------------------------------------------


def decode(entry: dict[str, Any]) -> EmailConfig:
    return msgspec.convert(entry, EmailConfig, strict=False)


BASE = {"to": "a@example.org", "from": "b@example.org", "smarthost": "smtp.example.org:587"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bogus": 1}, "unknown field `bogus`"),
        ({"smarthost": "smtp.example.org"}, "smarthost must be host:port"),
        ({"smarthost": "::1:25"}, "IPv6 address in brackets"),
        ({"to": None}, "Object missing required field `to`"),
        ({"to": "not-an-address"}, "to must be a comma-separated list"),
        ({"from": None}, "from is required"),
        ({"smarthost": None}, "smarthost is required"),
        ({"headers": {"Message-ID": "x"}}, "Message-ID is set by core-alerts"),
        ({"headers": {"Bad Name": "x"}}, "not a valid header name"),
        ({"tls_config": {"ca": "not pem"}}, "tls_config.ca is not valid PEM"),
        ({"tls_config": {"ca_file": "/etc/passwd"}}, "unknown field `ca_file`"),
        ({"auth_username": "alice"}, "auth_username needs auth_password"),
        ({"timeout": 0}, "Expected `float` >"),
        ({"html": "", "text": ""}, "at least one of html and text"),
    ],
)
def test_config_validation(change: dict[str, Any], message: str) -> None:
    entry = {**BASE, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    assert re.search(message, rejection(EmailConfig, entry))


def test_config_defaults_follow_alertmanager() -> None:
    cfg = decode({**BASE, "smarthost": "[::1]:25"})
    assert cfg.host_port == ("::1", 25)
    assert cfg.send_resolved is False
    assert cfg.require_tls is True
    assert cfg.hello == "localhost"
    assert set(EmailConfig.SECRETS) == {"auth_password", "auth_secret"}


def test_global_section_supplies_defaults() -> None:
    global_ = {
        "smtp_from": "am@example.org",
        "smtp_smarthost": "relay.example.org:25",
        "smtp_require_tls": False,
        "smtp_auth_username": "",
        "resolve_timeout": "5m",
    }
    defaults = SPEC.defaults(global_)
    assert defaults == {
        "from": "am@example.org",
        "smarthost": "relay.example.org:25",
        "require_tls": False,
    }
    cfg = decode({**defaults, "to": "x@example.org", "smarthost": "own.example.org:587"})
    assert (cfg.sender, cfg.smarthost, cfg.require_tls) == (
        "am@example.org",
        "own.example.org:587",
        False,
    )
    assert (SPEC.config_key, SPEC.integration) == ("email_configs", "email")


def test_schema_carries_descriptions() -> None:
    schema = msgspec.json.schema(EmailConfig)
    props = schema["$defs"]["EmailConfig"]["properties"]
    assert "from" in props and "from_" not in props
    assert set(schema["$defs"]) == {"EmailConfig", "TlsConfig"}
    assert undescribed(EmailConfig) == {}
    assert props["auth_password"]["description"].startswith("Secret")
