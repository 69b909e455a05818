"""`audit verify` and `compliance report`: run on the configured database directly."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core_alerts.cli.access import ConfigOpt, run_on_store
from core_alerts.cli.output import fail

if TYPE_CHECKING:
    from core_alerts.security import SecurityManager


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

    results = run_on_store(config, check)
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
