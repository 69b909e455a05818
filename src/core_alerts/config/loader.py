"""Load Settings from the three forms of the seed, in one precedence order.

Lowest to highest: built-in defaults < YAML file (`core_alerts:` root) < ALERTS_* environment
variables < the Python dict given to EngineOrchestrator. Each layer overrides single keys,
not whole sections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core_alerts.config.settings import Settings
from core_alerts.domain.errors import ConfigError

SECTION_ALIASES = {
    "alert_engine": "processing",
    "correlation_engine": "correlation",
    "suppression_manager": "suppression",
    "remediation_engine": "remediation",
    "analytics_engine": "analytics",
}

# The seed's environment variables -> (section, key).
SEED_ENV: dict[str, tuple[str, str]] = {
    "ALERTS_DB_BACKEND": ("database", "backend"),
    "ALERTS_DB_URL": ("database", "url"),
    "ALERTS_DB_HOST": ("database", "host"),
    "ALERTS_DB_PORT": ("database", "port"),
    "ALERTS_DB_NAME": ("database", "name"),
    "ALERTS_DB_USER": ("database", "user"),
    "ALERTS_DB_PASSWORD": ("database", "password"),
    "ALERTS_DB_PATH": ("database", "sqlite_path"),
    "ALERTS_REDIS_URL": ("redis", "url"),
    "ALERTS_ML_ENABLED": ("ml", "enabled"),
    "ALERTS_ML_MODEL_UPDATE_INTERVAL": ("ml", "model_update_interval"),
    "ALERTS_ANOMALY_THRESHOLD": ("ml", "anomaly_threshold"),
    "ALERTS_MAX_CONCURRENT": ("processing", "max_concurrent_alerts"),
    "ALERTS_BATCH_SIZE": ("processing", "batch_processing_size"),
    "ALERTS_PROCESSING_TIMEOUT": ("processing", "processing_timeout"),
    "ALERTS_ENCRYPTION_KEY": ("security", "encryption_key"),
    "ALERTS_JWT_SECRET": ("security", "jwt_secret"),
    "ALERTS_AUDIT_ENABLED": ("security", "audit_enabled"),
    "ALERTS_HOST": ("server", "host"),
    "ALERTS_PORT": ("server", "port"),
    "ALERTS_LOG_LEVEL": ("logging", "level"),
}
CONFIG_FILE_ENV = "ALERTS_CONFIG"


def _canonical(doc: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section, values in doc.items():
        name = SECTION_ALIASES.get(section, section)
        if not isinstance(values, Mapping):
            raise ConfigError(f"{origin}: section {section!r} must be a mapping of keys")
        out.setdefault(name, {}).update(values)
    return out


def _env_layer(environ: Mapping[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    layer: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for var, value in environ.items():
        if not var.startswith("ALERTS_") or var == CONFIG_FILE_ENV:
            continue
        if var in SEED_ENV:
            section, key = SEED_ENV[var]
        elif "__" in var:
            section, _, key = var[len("ALERTS_") :].lower().partition("__")
            section = SECTION_ALIASES.get(section, section)
        else:
            known = ", ".join(sorted(SEED_ENV))
            raise ConfigError(
                f"unknown environment variable {var}; use one of {known} or ALERTS_<SECTION>__<KEY>"
            )
        layer.setdefault(section, {})[key] = value
        origins[f"{section}.{key}"] = f"env {var}"
    host_given = "ALERTS_DB_HOST" in environ or "ALERTS_DB_URL" in environ
    if host_given and "ALERTS_DB_BACKEND" not in environ:
        layer.setdefault("database", {})["backend"] = "postgres"
    return layer, origins


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("core_alerts", {}), Mapping):
        raise ConfigError(f"config file {path} must be a mapping rooted at 'core_alerts:'")
    root = doc.get("core_alerts")
    if root is None:
        raise ConfigError(f"config file {path} has no 'core_alerts:' root key")
    return dict(root)


def _merge(layers: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in layer.items():
            merged.setdefault(section, {}).update(values)
    return merged


def _describe(exc: ValidationError, origins: dict[str, str]) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        origin = origins.get(key)
        where = f" (from {origin})" if origin else ""
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "literal_error":
            message = f"{message}; got {err.get('input')!r}"
        lines.append(f"{key}{where}: {message}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(
    config: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the frozen Settings; raise ConfigError naming each bad key and what is allowed."""
    env = os.environ if environ is None else environ
    layers: list[dict[str, dict[str, Any]]] = []
    origins: dict[str, str] = {}
    path = config_file or env.get(CONFIG_FILE_ENV)
    if path:
        layers.append(_canonical(_read_yaml(Path(path)), f"config file {path}"))
        for section, values in layers[-1].items():
            for key in values:
                origins[f"{section}.{key}"] = f"file {path}"
    env_layer, env_origins = _env_layer(env)
    layers.append(env_layer)
    origins.update(env_origins)
    if config:
        layers.append(_canonical(config, "config dict"))
    try:
        return Settings.model_validate(_merge(layers))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins)) from exc
