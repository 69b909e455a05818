"""Secrets in an `alertmanager.yml` document: hidden when shown, kept when saved back.

The API shows `<secret>` in place of each secret value (as Alertmanager does); a document
saved with `<secret>` still in place keeps the value already stored at the same place.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from core_alerts.domain.errors import ValidationFailed
from core_alerts.notify.channels import SECRET_PLACEHOLDER, channel_specs

_HTTP_CONFIG_SECRETS = (
    ("http_config", "authorization", "credentials"),
    ("http_config", "basic_auth", "password"),
    ("http_config", "bearer_token"),
    ("http_config", "oauth2", "client_secret"),
)
_GLOBAL_SECRETS = (
    "slack_api_url",
    "smtp_auth_password",
    "smtp_auth_secret",
    "opsgenie_api_key",
    "pagerduty_routing_key",
    "victorops_api_key",
    "telegram_bot_token",
    "webex_api_url",
)

Path = tuple[Any, ...]


def _secret_paths(document: dict[str, Any]) -> Iterator[Path]:
    for name in _GLOBAL_SECRETS:
        yield ("global", name)
    specs = channel_specs()
    for receiver in document.get("receivers") or []:
        if not isinstance(receiver, dict):
            continue
        for key, entries in receiver.items():
            spec = specs.get(key)
            if spec is None or not isinstance(entries, list):
                continue
            fields = [tuple(f.split(".")) for f in spec.config_type.SECRETS]
            for index in range(len(entries)):
                for field in (*fields, *_HTTP_CONFIG_SECRETS):
                    yield ("receivers", receiver.get("name"), key, index, *field)


def _locate(document: dict[str, Any], path: Path) -> tuple[Any, Any] | None:
    """(container, key) of the value at `path`, receivers addressed by name; None if absent."""
    node: Any = document
    steps = list(path)
    if steps[0] == "receivers":
        matches = [r for r in document.get("receivers") or [] if isinstance(r, dict)]
        found = [r for r in matches if r.get("name") == steps[1]]
        if not found:
            return None
        node, steps = found[0], steps[2:]
    for step in steps[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, dict) and steps[-1] in node:
        return node, steps[-1]
    return None


def redact(document: dict[str, Any]) -> dict[str, Any]:
    """A copy with every set secret replaced by `<secret>`."""
    out = copy.deepcopy(document)
    for path in _secret_paths(out):
        spot = _locate(out, path)
        if spot is not None and spot[0][spot[1]] not in (None, ""):
            spot[0][spot[1]] = SECRET_PLACEHOLDER
    return out


def restore(document: dict[str, Any], saved: dict[str, Any] | None) -> dict[str, Any]:
    """`document` with each `<secret>` replaced by the saved value at the same place."""
    out = copy.deepcopy(document)
    for path in _secret_paths(out):
        spot = _locate(out, path)
        if spot is None or spot[0][spot[1]] != SECRET_PLACEHOLDER:
            continue
        old = _locate(saved, path) if saved else None
        if old is None or old[0][old[1]] in (None, "", SECRET_PLACEHOLDER):
            where = ".".join(str(p) for p in path if p != "receivers")
            raise ValidationFailed(
                f"{where} is {SECRET_PLACEHOLDER} but no value is saved there; "
                "give the value itself",
                field=str(path[-1]),
            )
        spot[0][spot[1]] = old[0][old[1]]
    return out
