"""The seed document's examples covered by the foundation, as written (`core` -> `core_alerts`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_configuration_and_alert_processing_examples(tmp_path: Path) -> None:
    # The seed runs these two snippets one after the other; the second awaits at top level.
    script = f"""
import asyncio, os
os.environ["ALERTS_DB_PATH"] = {str(tmp_path / "seed.db")!r}

# -- Configuration de Base --
from core_alerts import EngineOrchestrator

config = {{
    'alert_engine': {{
        'max_concurrent_alerts': 50000,
        'batch_processing_size': 1000,
        'enable_ml_processing': True
    }},
    'correlation_engine': {{
        'correlation_window_minutes': 30,
        'ml_confidence_threshold': 0.8
    }},
    'analytics_engine': {{
        'enable_predictions': True,
        'buffer_size': 100000
    }}
}}

orchestrator = EngineOrchestrator(config)
orchestrator.start_all()

# -- Traitement d'Alertes --
from core_alerts import Alert, AlertSeverity, AlertMetadata

alert = Alert(
    metadata=AlertMetadata(
        tenant_id="spotify-prod",
        alert_id="alert_123"
    ),
    title="High CPU Usage",
    description="CPU usage above 90% for 5 minutes",
    severity=AlertSeverity.HIGH
)

async def main():
    engine = orchestrator.get_engine('alert_engine')
    result = await engine.process_alert(alert)
    print(result.outcome, result.alert_id, result.status)
    again = await engine.process_alert(Alert(
        metadata=AlertMetadata(tenant_id="spotify-prod"), title="High CPU Usage",
        severity=AlertSeverity.HIGH))
    print(again.outcome, again.alert_id, again.occurrences)
    await orchestrator.stop_all()

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "created alert_123 firing"
    assert lines[1] == "deduplicated alert_123 2"


def test_quick_start_entry_point_is_importable() -> None:
    # The seed starts everything with `from core import start_alerts_engines`.
    from core_alerts import start_alerts_engines

    assert callable(start_alerts_engines)


def test_unknown_engine_name_lists_the_known_ones(tmp_path: Path) -> None:
    from core_alerts import EngineOrchestrator

    orch = EngineOrchestrator({"database": {"sqlite_path": str(tmp_path / "x.db")}})
    assert orch.get_engine("alert_engine") is orch.alert_engine
    with pytest.raises(KeyError, match="alert_engine"):
        orch.get_engine("nope")
