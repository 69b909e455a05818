"""Render the configuration reference (docs/configuration.md) from the Settings model.

Run `python -m core_alerts.config.reference > docs/configuration.md`; a test keeps the
file in step with the code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core_alerts.config.loader import CONFIG_FILE_ENV, SECTION_ALIASES, SEED_ENV
from core_alerts.config.settings import Settings

_ALIASES = ", ".join(f"`{a}` = `{c}`" for a, c in SECTION_ALIASES.items())
_HEADER = f"""# Configuration reference

core-alerts reads one configuration from three forms, merged key by key. From lowest to
highest precedence:

1. built-in defaults (below);
2. a YAML file whose root key is `core_alerts:` (path from `--config` or `{CONFIG_FILE_ENV}`);
3. environment variables: the seed's names (column *Env*) or `ALERTS_<SECTION>__<KEY>`
   for any key (for example `ALERTS_SERVER__PORT=9000`);
4. the Python dict given to `EngineOrchestrator(config)`.

A bad value stops the service at start with a message naming the key, where it came from
and what is allowed. Unknown keys and unknown `ALERTS_*` variables are errors too.
Durations accept `500ms`, `30s`, `5m`, `6h`, `1h30m` or seconds as a number.

The `correlation`, `suppression`, `remediation`, `analytics`, `ml` and `security` sections
are validated now and read by the engines that own them as those engines ship.

Section aliases of the seed's Python dict: {_ALIASES}.
"""


def _default(value: Any) -> str:
    if isinstance(value, BaseModel):
        return ""
    return f"`{value!r}`" if value is not None else "unset"


def render() -> str:
    env_for = {f"{s}.{k}": var for var, (s, k) in SEED_ENV.items()}
    lines = [_HEADER]
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        lines += [f"\n## `{section}`\n", "| Key | Env | Default | Meaning |", "|---|---|---|---|"]
        for key, info in model.model_fields.items():
            env = env_for.get(f"{section}.{key}", f"ALERTS_{section.upper()}__{key.upper()}")
            alias = f" (alias `{info.alias}`)" if info.alias else ""
            default = (
                "secret"
                if info.repr is False
                else _default(info.get_default(call_default_factory=True))
            )
            lines.append(f"| `{key}`{alias} | `{env}` | {default} | {info.description or ''} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
