"""What every channel is: a validated config type, a builder, and one `send` method."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import msgspec

from core_alerts.domain.clock import Clock
from core_alerts.domain.errors import CoreAlertsError
from core_alerts.domain.notification import Notification
from core_alerts.notify.templates import TemplateEngine
from core_alerts.outbound import OutboundClient, OutboundPolicy

SECRET_PLACEHOLDER = "<secret>"  # noqa: S105 - the mask, not a secret
"""What the API shows instead of a secret value (as Alertmanager's /api/v2/status does)."""


class DeliveryFailed(CoreAlertsError):
    """A send did not succeed. `retryable` says whether trying again may help;
    `retry_after` is the delay the receiver asked for (Retry-After), if it did."""

    code = "delivery_failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class ChannelConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every channel's config. Subclasses declare fields with
    `Annotated[T, msgspec.Meta(description=...)]` and list secret field names in `SECRETS`
    (dotted for nested ones, e.g. `http_config.bearer_token`); repr() masks their values."""

    SECRETS: ClassVar[frozenset[str]] = frozenset()

    send_resolved: bool = True

    def __repr__(self) -> str:
        """The config as a constructor call, each secret that is set shown as `<secret>`, so
        a config written to a log never reveals one."""
        shown = ", ".join(f"{name}={text}" for name, text in _shown_fields(self, self.SECRETS))
        return f"{type(self).__name__}({shown})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # msgspec gives structs a rich repr of their raw values: mask those too.
        return [(name, _Shown(text)) for name, text in _shown_fields(self, self.SECRETS)]


class _Shown:
    """Stands in for a field value in a repr: prints its text as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _shown_fields(
    struct: msgspec.Struct, secrets: frozenset[str], prefix: str = ""
) -> list[tuple[str, str]]:
    """(attribute, repr text) of each field of `struct`, nested structs included; a value
    that is set at a dotted path listed in `secrets` is shown as SECRET_PLACEHOLDER."""
    shown: list[tuple[str, str]] = []
    for info in msgspec.structs.fields(struct):
        value = getattr(struct, info.name)
        path = prefix + info.encode_name
        if path in secrets and value not in (None, ""):
            text = SECRET_PLACEHOLDER
        elif isinstance(value, msgspec.Struct):
            inner = ", ".join(f"{n}={t}" for n, t in _shown_fields(value, secrets, path + "."))
            text = f"{type(value).__name__}({inner})"
        else:
            text = repr(value)
        shown.append((info.name, text))
    return shown


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What a channel may use to send: the one outbound HTTP client, the templates, a clock."""

    http: OutboundClient
    templates: TemplateEngine
    clock: Clock
    external_url: str = ""
    policy: OutboundPolicy | None = None
    """The outbound policy `http` enforces; channels that connect without HTTP (SMTP, Apprise)
    check their destinations against it too."""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_policy(self) -> OutboundPolicy:
        """`policy`, or the default one (public addresses only) when none is set."""
        return self.policy or OutboundPolicy()


class Channel(Protocol):
    """One configured integration of a receiver (e.g. `webhook[0]` of receiver `ops`)."""

    send_resolved: bool

    async def send(self, notification: Notification) -> None:
        """Deliver once, or raise DeliveryFailed. `notification.id` is the idempotency key."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A channel type: the `*_configs` key in a receiver, its config type and its builder.

    `defaults(global_)` returns field defaults taken from the config's `global:` section
    (e.g. `slack_api_url`), applied under what the receiver's entry sets.
    """

    config_key: str
    integration: str
    description: str
    config_type: type[ChannelConfig]
    build: Callable[[Any, ChannelContext], Channel]
    defaults: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda _global: {}


def from_global(fields: Mapping[str, str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A ChannelSpec `defaults`: each `global:` key of `fields` that is set (neither null nor
    empty) becomes the default of the config field it names."""

    def defaults(global_: Mapping[str, Any]) -> dict[str, Any]:
        return {
            field: global_[key]
            for key, field in fields.items()
            if global_.get(key) not in (None, "")
        }

    return defaults
