"""`tokens`, `keys` and `tenants`: credentials for scripts and senders, made against the
configured store directly (the server may be running or not)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from core_alerts.cli.output import fail, note

if TYPE_CHECKING:
    from core_alerts.domain.access import Scope
    from core_alerts.security import SecurityManager

T = TypeVar("T")
tokens = typer.Typer(help="Signed tokens for scripts and CI.", no_args_is_help=True)
keys = typer.Typer(
    help="API keys for senders (Prometheus, Grafana, webhooks).", no_args_is_help=True
)
tenants = typer.Typer(help="Tenants: create, list, disable, enable.", no_args_is_help=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML file rooted at core_alerts:.")
]
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant the credential belongs to.")]
TtlOpt = Annotated[
    str | None, typer.Option("--ttl", help="Lifetime, e.g. 30m, 12h, 90d (tokens: 1h).")
]
ROLES = "viewer, responder, admin, ingest, platform-admin"


def _run(config: Path | None, action: Callable[[SecurityManager], Awaitable[T]]) -> T:
    """Open only the credentials store of the configured backend, run `action`, close."""
    from core_alerts.app import EngineOrchestrator
    from core_alerts.domain.errors import CoreAlertsError

    async def go() -> T:
        security = EngineOrchestrator(config_file=str(config) if config else None).security_manager
        await security.open()
        try:
            return await action(security)
        finally:
            await security.close()

    try:
        return asyncio.run(go())
    except CoreAlertsError as exc:
        fail(exc.message)


def _role(name: str) -> frozenset[Scope]:
    from core_alerts.domain.access import ROLE_SCOPES, Role

    try:
        return ROLE_SCOPES[Role(name)]
    except ValueError:
        raise typer.BadParameter(f"unknown role {name!r}; choose one of {ROLES}") from None


def _seconds(ttl: str | None) -> float | None:
    if ttl is None:
        return None
    from core_alerts.config.durations import parse_duration

    try:
        return parse_duration(ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from None


@tokens.command("create")
def create_token(
    tenant: TenantOpt = "default",
    role: Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")] = "admin",
    subject: Annotated[str, typer.Option("--subject", help="Who the token is for.")] = "cli",
    ttl: TtlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print a signed token (for `Authorization: Bearer ...`)."""
    scopes = _role(role)
    seconds = _seconds(ttl)

    async def issue(security: SecurityManager) -> str:
        if await security.tenant(tenant) is None:
            fail(f"tenant {tenant} does not exist (core-alerts tenants create {tenant})")
        return security.issue_token(tenant, subject, scopes, seconds)[0]

    print(_run(config, issue))


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. prometheus.")],
    tenant: TenantOpt = "default",
    role: Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")] = "ingest",
    ttl: TtlOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print a new API key, once; only its hash is kept."""
    from core_alerts.domain.access import ROLE_SCOPES, Role
    from core_alerts.security import CredentialKind, Principal

    scopes = _role(role)
    seconds = _seconds(ttl)
    # Run locally by whoever can read the configuration: as powerful as a platform admin.
    operator = Principal(
        tenant_id=tenant, subject="cli", scopes=ROLE_SCOPES[Role.PLATFORM_ADMIN],
        kind=CredentialKind.TOKEN,
    )  # fmt: skip

    async def make(security: SecurityManager) -> str:
        if await security.tenant(tenant) is None:
            fail(f"tenant {tenant} does not exist (core-alerts tenants create {tenant})")
        record, key = await security.create_api_key(operator, tenant, name, scopes, seconds)
        note(f"key id {record.id}, scopes {' '.join(record.scopes)} (shown once)")
        return key

    print(_run(config, make))


@tenants.command("create")
def create_tenant(
    tenant_id: Annotated[str, typer.Argument(help="Letters, digits, '_', '.', '-'.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    config: ConfigOpt = None,
) -> None:
    """Create a tenant."""
    created = _run(config, lambda s: s.create_tenant(tenant_id, name))
    print(f"created tenant {created.id}")


@tenants.command("list")
def list_tenants(config: ConfigOpt = None) -> None:
    """List tenants and their status."""
    for t in _run(config, lambda s: s.store.list_tenants()):
        print(f"{t.id}\t{t.status}\t{t.name}")


@tenants.command("disable")
def disable_tenant(tenant_id: str, config: ConfigOpt = None) -> None:
    """Disable a tenant: its credentials stop working (within security.credential_cache)."""
    from core_alerts.domain.access import TenantStatus

    _run(config, lambda s: s.set_tenant_status(tenant_id, TenantStatus.DISABLED))
    print(f"disabled tenant {tenant_id}")


@tenants.command("enable")
def enable_tenant(tenant_id: str, config: ConfigOpt = None) -> None:
    """Enable a disabled tenant."""
    from core_alerts.domain.access import TenantStatus

    _run(config, lambda s: s.set_tenant_status(tenant_id, TenantStatus.ACTIVE))
    print(f"enabled tenant {tenant_id}")


audit = typer.Typer(help="The audit trail: verify the hash chains.", no_args_is_help=True)


@audit.command("verify")
def verify_audit(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="One tenant; every tenant when unset.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Verify the audit chains; exit 1 naming the first tampered entry of each broken one."""

    async def check(security: SecurityManager) -> list[tuple[str, bool, str]]:
        if security.trail is None:
            fail("the audit trail is off (security.audit_enabled: false)")
        ids = [tenant] if tenant else [t.id for t in await security.store.list_tenants()]
        results = []
        for tenant_id in ids:
            r = await security.trail.verify(tenant_id)
            what = (
                f"ok, {r.checked} entries"
                if r.ok
                else f"TAMPERED at seq {r.bad_seq} ({r.kind}): {r.reason}"
            )
            results.append((tenant_id, r.ok, what))
        return results

    results = _run(config, check)
    for tenant_id, _, what in results:
        print(f"{tenant_id}\t{what}")
    if not all(ok for _, ok, _ in results):
        raise typer.Exit(1)


compliance = typer.Typer(help="The compliance report.", no_args_is_help=True)


@compliance.command("report")
def compliance_report(
    fmt: Annotated[str, typer.Option("--format", help="json or html.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if a check fails.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Check the controls this service can evidence against the configured service."""
    import msgspec

    from core_alerts.app import EngineOrchestrator
    from core_alerts.compliance import render_html

    if fmt not in ("json", "html"):
        raise typer.BadParameter("use json or html", param_hint="--format")

    async def build() -> Any:
        orch = EngineOrchestrator(config_file=str(config) if config else None)
        await orch.security_manager.open()
        try:
            return await orch.compliance_manager.report()
        finally:
            await orch.security_manager.close()

    report = asyncio.run(build())
    text = (
        render_html(report)
        if fmt == "html"
        else msgspec.json.format(msgspec.json.encode(report), indent=2).decode() + "\n"
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    if strict and report.summary.get("fail", 0):
        raise typer.Exit(1)


@keys.command("rotate")
def rotate_keys(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="One tenant; every tenant with keys if unset.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Rewrap data keys under the active master key and start new data key versions; the
    server re-encrypts stored values within security.reencrypt_interval."""
    from core_alerts.app import EngineOrchestrator

    async def rotate() -> list[str]:
        orch = EngineOrchestrator(config_file=str(config) if config else None)
        if orch.field_cipher is None:
            fail("no master key is configured (ALERTS_ENCRYPTION_KEY)")
        keys = orch.field_cipher.data_keys
        await orch.security_manager.store.open()
        try:
            rewrapped = await keys.rewrap_all()
            tenants = [tenant] if tenant else await orch.security_manager.store.tenant_ids()  # type: ignore[attr-defined]
            lines = [f"rewrapped {rewrapped} data key(s) under the active master key"]
            for tenant_id in tenants:
                lines.append(f"{tenant_id}\tnow on data key {await keys.rotate(tenant_id)}")
            return lines
        finally:
            await orch.security_manager.store.close()

    for line in asyncio.run(rotate()):
        print(line)
