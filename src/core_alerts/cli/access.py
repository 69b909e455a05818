"""`tokens`, `keys` and `tenants`: credentials for scripts and senders, made against the
configured store directly (the server may be running or not)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

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


def run_on_store(config: Path | None, action: Callable[[SecurityManager], Awaitable[T]]) -> T:
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

    print(run_on_store(config, issue))


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

    print(run_on_store(config, make))


@tenants.command("create")
def create_tenant(
    tenant_id: Annotated[str, typer.Argument(help="Letters, digits, '_', '.', '-'.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    config: ConfigOpt = None,
) -> None:
    """Create a tenant."""
    created = run_on_store(config, lambda s: s.create_tenant(tenant_id, name))
    print(f"created tenant {created.id}")


@tenants.command("list")
def list_tenants(config: ConfigOpt = None) -> None:
    """List tenants and their status."""
    for t in run_on_store(config, lambda s: s.store.list_tenants()):
        print(f"{t.id}\t{t.status}\t{t.name}")


@tenants.command("disable")
def disable_tenant(tenant_id: str, config: ConfigOpt = None) -> None:
    """Disable a tenant: its credentials stop working (within security.credential_cache)."""
    from core_alerts.domain.access import TenantStatus

    run_on_store(config, lambda s: s.set_tenant_status(tenant_id, TenantStatus.DISABLED))
    print(f"disabled tenant {tenant_id}")


@tenants.command("enable")
def enable_tenant(tenant_id: str, config: ConfigOpt = None) -> None:
    """Enable a disabled tenant."""
    from core_alerts.domain.access import TenantStatus

    run_on_store(config, lambda s: s.set_tenant_status(tenant_id, TenantStatus.ACTIVE))
    print(f"enabled tenant {tenant_id}")


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
