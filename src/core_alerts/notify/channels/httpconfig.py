"""Alertmanager's `http_config` as far as core-alerts honours it: one way to authenticate.

TLS, proxy and OAuth2 settings are not accepted: the outbound client owns transport policy.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from core_alerts.notify.channels.fields import check_header_value


class Authorization(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`Authorization: <type> <credentials>`."""

    type: Annotated[
        str, msgspec.Meta(description="Scheme of the Authorization header (default Bearer).")
    ] = "Bearer"
    credentials: Annotated[
        str, msgspec.Meta(description="Secret: the credentials sent after the scheme.")
    ]

    def __post_init__(self) -> None:
        if self.type.strip().lower() == "basic":
            raise ValueError(
                'http_config.authorization.type cannot be "Basic"; use http_config.basic_auth'
            )
        if not self.type or " " in self.type:
            raise ValueError("http_config.authorization.type must be one word, e.g. Bearer")
        check_header_value(self.type, "http_config.authorization.type")
        check_header_value(self.credentials, "http_config.authorization.credentials")


class BasicAuth(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """HTTP Basic authentication (RFC 7617, UTF-8)."""

    username: Annotated[str, msgspec.Meta(description="User name for Basic authentication.")]
    password: Annotated[
        str, msgspec.Meta(description="Secret: password for Basic authentication.")
    ] = ""

    def __post_init__(self) -> None:
        if ":" in self.username:
            raise ValueError("http_config.basic_auth.username must not contain ':'")


class HttpConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How requests authenticate: at most one of the three ways."""

    authorization: Annotated[
        Authorization | None,
        msgspec.Meta(description="Authorization header with a scheme and credentials."),
    ] = None
    basic_auth: Annotated[
        BasicAuth | None, msgspec.Meta(description="HTTP Basic authentication.")
    ] = None
    bearer_token: Annotated[
        str | None,
        msgspec.Meta(description="Secret: shorthand for authorization with type Bearer."),
    ] = None

    def __post_init__(self) -> None:
        chosen = [
            name
            for name in ("authorization", "basic_auth", "bearer_token")
            if getattr(self, name) is not None
        ]
        if len(chosen) > 1:
            raise ValueError(
                f"http_config may set at most one of authorization, basic_auth and "
                f"bearer_token; it sets {' and '.join(chosen)}"
            )
        if self.bearer_token is not None:
            check_header_value(self.bearer_token, "http_config.bearer_token")

    @property
    def has_auth(self) -> bool:
        return any(v is not None for v in (self.authorization, self.basic_auth, self.bearer_token))

    def headers(self) -> dict[str, str]:
        """The Authorization header this config asks for (empty when none)."""
        if self.authorization is not None:
            auth = self.authorization
            return {"Authorization": f"{auth.type} {auth.credentials}"}
        if self.basic_auth is not None:
            basic = self.basic_auth
            return {"Authorization": basic_authorization(basic.username, basic.password)}
        if self.bearer_token is not None:
            return {"Authorization": f"Bearer {self.bearer_token}"}
        return {}


def auth_headers(config: HttpConfig | None) -> dict[str, str]:
    """The Authorization header an optional `http_config` asks for (empty when none)."""
    return config.headers() if config is not None else {}


def basic_authorization(username: str, password: str) -> str:
    """The Authorization value of HTTP Basic authentication (RFC 7617, UTF-8)."""
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


HTTP_CONFIG_SECRETS = frozenset(
    {
        "http_config.authorization.credentials",
        "http_config.basic_auth.password",
        "http_config.bearer_token",
    }
)
"""Dotted paths of the secrets inside `http_config`, for a channel config's SECRETS."""


def global_http_config(global_: Mapping[str, Any]) -> dict[str, Any]:
    """The `global:` section's `http_config` as a field default (Alertmanager applies it to
    every receiver that sets none)."""
    if global_.get("http_config") is not None:
        return {"http_config": global_["http_config"]}
    return {}
