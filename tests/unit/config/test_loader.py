"""One precedence order over the seed's three configuration forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from core_alerts.config import load_settings
from core_alerts.config.durations import parse_duration
from core_alerts.domain.errors import ConfigError

SEED_YAML = """
core_alerts:
  processing:
    max_concurrent_alerts: 50000
    batch_processing_size: 1000
    enable_ml_processing: true
  correlation:
    window_minutes: 30
    algorithms: ["temporal", "semantic", "causal"]
    ml_confidence_threshold: 0.8
  suppression:
    storm_threshold: 100
    deduplication_enabled: true
    intelligent_throttling: true
  remediation:
    auto_remediation_enabled: true
    simulation_mode: false
    rollback_enabled: true
  analytics:
    real_time_enabled: true
    predictions_enabled: true
    dashboard_auto_refresh: 30s
"""


def test_the_seed_yaml_document_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(SEED_YAML)
    s = load_settings(config_file=path, environ={})
    assert s.processing.batch_processing_size == 1000
    assert s.correlation.algorithms == ["temporal", "semantic", "causal"]
    assert s.analytics.dashboard_auto_refresh == 30.0
    assert s.suppression.storm_threshold == 100


def test_the_seed_environment_variables_map_to_keys() -> None:
    env = {
        "ALERTS_DB_HOST": "db.internal",
        "ALERTS_DB_PORT": "6432",
        "ALERTS_REDIS_URL": "redis://r:6379",
        "ALERTS_ML_ENABLED": "false",
        "ALERTS_ML_MODEL_UPDATE_INTERVAL": "6h",
        "ALERTS_ANOMALY_THRESHOLD": "0.7",
        "ALERTS_MAX_CONCURRENT": "20000",
        "ALERTS_BATCH_SIZE": "500",
        "ALERTS_PROCESSING_TIMEOUT": "60s",
        "ALERTS_JWT_SECRET": "x" * 32,
        "ALERTS_AUDIT_ENABLED": "true",
    }
    s = load_settings(environ=env)
    assert s.database.backend == "postgres"
    assert s.database.dsn() == "postgresql://postgres@db.internal:6432/core_alerts"
    assert s.redis.url == "redis://r:6379"
    assert s.ml.enabled is False and s.ml.model_update_interval == 21600
    assert s.processing.max_concurrent_alerts == 20000
    assert s.processing.batch_processing_size == 500
    assert s.processing.processing_timeout == 60


def test_precedence_is_defaults_then_file_then_env_then_dict(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "core_alerts:\n  processing:\n    batch_processing_size: 10\n    max_concurrent_alerts: 900\n"
    )
    only_file = load_settings(config_file=path, environ={})
    assert only_file.processing.batch_processing_size == 10
    env = {"ALERTS_BATCH_SIZE": "20"}
    assert load_settings(config_file=path, environ=env).processing.batch_processing_size == 20
    both = load_settings(
        {"alert_engine": {"batch_processing_size": 30}}, config_file=path, environ=env
    )
    assert both.processing.batch_processing_size == 30
    assert both.processing.max_concurrent_alerts == 900  # single keys override, not sections


def test_nested_env_form_and_section_aliases() -> None:
    s = load_settings(
        {"analytics_engine": {"enable_predictions": False, "buffer_size": 5}},
        environ={"ALERTS_SERVER__PORT": "9999"},
    )
    assert s.server.port == 9999
    assert s.analytics.predictions_enabled is False and s.analytics.buffer_size == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environ": {"ALERTS_BATCH_SIZE": "zero"}}, "processing.batch_processing_size (from env ALERTS_BATCH_SIZE)"),
        ({"environ": {"ALERTS_DB_BACKEND": "mysql"}}, "'sqlite' or 'postgres'"),
        ({"environ": {"ALERTS_NOPE": "1"}}, "unknown environment variable ALERTS_NOPE"),
        ({"config": {"processing": {"batch_size": 1}}, "environ": {}}, "processing.batch_size: unknown key"),
        ({"config": {"server": {"port": 0}}, "environ": {}}, "server.port: Input should be greater than or equal to 1"),
        ({"config": {"processing": {"resolve_timeout": "5 minutes"}}, "environ": {}}, "invalid duration"),
        ({"config": {"alert_engine": {"batch_processing_size": 10, "max_concurrent_alerts": 5}}, "environ": {}},
         "must not exceed"),
    ],
)  # fmt: skip
def test_bad_values_fail_naming_the_key(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**kwargs)
    assert message in str(err.value)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("core_alerts: [unclosed\n")
    with pytest.raises(ConfigError, match=r"c\.yaml is not valid YAML"):
        load_settings(config_file=path, environ={})
    path.write_text("other: {}\n")
    with pytest.raises(ConfigError, match="no 'core_alerts:' root"):
        load_settings(config_file=path, environ={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("2", 2)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "-1", "m5", "1h 2m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_configuration_reference_is_current() -> None:
    from core_alerts.config.reference import render

    doc = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
    assert doc.read_text() == render(), (
        "run: python -m core_alerts.config.reference > docs/configuration.md"
    )
