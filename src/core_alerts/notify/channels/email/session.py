"""One SMTP session: a checked and pinned connection, TLS, authentication, one message.

The smarthost is resolved and checked against the outbound policy before connecting, and
the socket goes to a checked address; the host name (or tls_config.server_name) is used only
to verify the certificate. Failures become DeliveryFailed: network trouble and 4xx replies
are retryable, 5xx replies, TLS and configuration problems are not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import ssl
from email.message import EmailMessage

import aiosmtplib
import certifi
import structlog

from core_alerts.notify.channels.base import DeliveryFailed
from core_alerts.notify.channels.email.config import IMPLICIT_TLS_PORT, EmailConfig, TlsConfig
from core_alerts.outbound import OutboundBlocked, OutboundFailed, OutboundPolicy, admit_host
from core_alerts.outbound.policy import IPAddress

log = structlog.get_logger(__name__)


def tls_context(tls: TlsConfig | None) -> ssl.SSLContext:
    """Verified TLS against the public CA bundle, or `tls_config.ca` alone when set."""
    tls = tls or TlsConfig()
    if tls.ca:
        context = ssl.create_default_context(cadata=tls.ca)
    else:
        context = ssl.create_default_context(cafile=certifi.where())
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def deliver(
    cfg: EmailConfig, message: EmailMessage, policy: OutboundPolicy, tls: ssl.SSLContext
) -> None:
    """Send `message` to `cfg.recipients` through `cfg.smarthost`, or raise DeliveryFailed.

    `tls` is the context from `tls_context(cfg.tls_config)`, built once per channel.
    """
    host, port = cfg.host_port
    server_name = (cfg.tls_config.server_name if cfg.tls_config else "") or host
    try:
        async with asyncio.timeout(cfg.timeout):
            sock = await _connect(host, port, policy)
            smtp = aiosmtplib.SMTP(
                hostname=server_name,
                sock=sock,
                use_tls=port == IMPLICIT_TLS_PORT,
                start_tls=False,
                tls_context=tls,
                local_hostname=cfg.hello,
                timeout=cfg.timeout,
            )
            try:
                await _session(smtp, cfg, message)
            finally:
                smtp.close()
                sock.close()
    except TimeoutError:
        raise DeliveryFailed(
            f"SMTP delivery via {cfg.smarthost} took longer than {cfg.timeout:g}s",
            retryable=True,
        ) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _reply_failed(exc, cfg.smarthost) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise _refused(exc, cfg.smarthost) from None
    except ssl.SSLError as exc:
        raise DeliveryFailed(
            f"TLS with {cfg.smarthost} failed: {exc.reason or exc}", retryable=False
        ) from None
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
        raise DeliveryFailed(f"SMTP via {cfg.smarthost}: {exc}", retryable=True) from None
    except aiosmtplib.SMTPException as exc:
        raise DeliveryFailed(f"SMTP via {cfg.smarthost}: {exc}", retryable=False) from None


async def _connect(host: str, port: int, policy: OutboundPolicy) -> socket.socket:
    try:
        addresses = await admit_host(host, port, policy)
    except OutboundBlocked as exc:
        raise DeliveryFailed(f"smarthost refused: {exc.message}", retryable=False) from None
    except OutboundFailed as exc:
        raise DeliveryFailed(exc.message, retryable=exc.retryable) from None
    error: OSError | None = None
    for address in addresses:
        try:
            return await _open(address, port, policy.connect_timeout)
        except OSError as exc:
            error = exc
    raise DeliveryFailed(f"cannot connect to {host} port {port}: {error}", retryable=True)


async def _open(address: IPAddress, port: int, limit: float) -> socket.socket:
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(limit):
            await asyncio.get_running_loop().sock_connect(sock, (str(address), port))
    except TimeoutError:
        sock.close()
        raise OSError(f"connect to {address} timed out after {limit:g}s") from None
    except BaseException:
        sock.close()
        raise
    return sock


async def _session(smtp: aiosmtplib.SMTP, cfg: EmailConfig, message: EmailMessage) -> None:
    await smtp.connect()
    implicit = cfg.host_port[1] == IMPLICIT_TLS_PORT
    if cfg.require_tls and not implicit:
        await _greet(smtp)
        if not smtp.supports_extension("starttls"):
            raise DeliveryFailed(
                f"require_tls is true but {cfg.smarthost} does not offer STARTTLS",
                retryable=False,
            )
        await smtp.starttls()
    await _authenticate(smtp, cfg, encrypted=implicit or cfg.require_tls)
    refused, _ = await smtp.send_message(message, sender=cfg.sender, recipients=cfg.recipients)
    if refused:
        # Some recipients took the message: a retry would send it to them again.
        log.warning(
            "email partly delivered",
            smarthost=cfg.smarthost,
            refused={rcpt: reply.code for rcpt, reply in refused.items()},
        )
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await smtp.quit()


async def _greet(smtp: aiosmtplib.SMTP) -> None:
    """EHLO unless this (TLS) session already had one; HELO for servers without ESMTP."""
    if not smtp.is_ehlo_or_helo_needed:
        return
    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()


async def _authenticate(smtp: aiosmtplib.SMTP, cfg: EmailConfig, *, encrypted: bool) -> None:
    if not cfg.auth_username:
        return
    await _greet(smtp)
    if not smtp.supports_extension("auth"):
        raise DeliveryFailed(
            f"auth_username is set but {cfg.smarthost} does not offer AUTH", retryable=False
        )
    # Follow the server's order, as Alertmanager does, taking the first mechanism we can use.
    for mechanism in smtp.server_auth_methods:
        if mechanism == "cram-md5" and cfg.auth_secret:
            await smtp.auth_crammd5(cfg.auth_username, cfg.auth_secret)
            return
        if mechanism in ("plain", "login") and cfg.auth_password:
            if not encrypted:
                raise DeliveryFailed(
                    "refusing to send auth_password over an unencrypted connection; "
                    "set require_tls: true or use port 465",
                    retryable=False,
                )
            if mechanism == "plain":
                await _auth_plain(smtp, cfg)
            else:
                await smtp.auth_login(cfg.auth_username, cfg.auth_password)
            return
    offered = " ".join(smtp.server_auth_methods).upper() or "none"
    raise DeliveryFailed(
        f"{cfg.smarthost} offers AUTH {offered}; none matches the configured credentials "
        "(CRAM-MD5 needs auth_secret, PLAIN and LOGIN need auth_password)",
        retryable=False,
    )


async def _auth_plain(smtp: aiosmtplib.SMTP, cfg: EmailConfig) -> None:
    # aiosmtplib's PLAIN has no authorization identity; RFC 4616 puts it first.
    token = f"{cfg.auth_identity}\0{cfg.auth_username}\0{cfg.auth_password}".encode()
    response = await smtp.execute_command(b"AUTH", b"PLAIN", base64.b64encode(token))
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


def _reply_failed(exc: aiosmtplib.SMTPResponseException, smarthost: str) -> DeliveryFailed:
    # 4xx is a transient refusal (greylisting, quota); 5xx a permanent one.
    return DeliveryFailed(
        f"{smarthost} answered {exc.code}: {exc.message}",
        retryable=400 <= exc.code < 500,
        status=exc.code,
    )


def _refused(exc: aiosmtplib.SMTPRecipientsRefused, smarthost: str) -> DeliveryFailed:
    codes = [r.code for r in exc.recipients]
    details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    return DeliveryFailed(
        f"{smarthost} refused every recipient ({details})",
        retryable=any(400 <= c < 500 for c in codes),
        status=max(codes, default=None),
    )
