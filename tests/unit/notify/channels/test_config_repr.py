"""A channel config printed anywhere (a log line, a traceback, rich) shows `<secret>` in place
of every secret that is set, nested `http_config` secrets included, and everything else as is."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from core_alerts.notify.channels import SECRET_PLACEHOLDER, ChannelConfig, channel_specs
from core_alerts.notify.channels.apprise import AppriseConfig
from core_alerts.notify.channels.email import EmailConfig
from core_alerts.notify.channels.webhook import WebhookConfig

MARK = "SeCrEt42"

SAMPLES: dict[str, dict[str, Any]] = {
    "webhook_configs": {"url": f"https://h.example/{MARK}", "http_config": {"bearer_token": MARK}},
    "slack_configs": {"api_url": f"https://hooks.example/{MARK}", "token": f"xoxb-{MARK}"},
    "msteams_configs": {
        "webhook_url": f"https://h.example/{MARK}",
        "http_config": {"basic_auth": {"username": "u", "password": MARK}},
    },
    "msteamsv2_configs": {
        "webhook_url": f"https://h.example/{MARK}",
        "http_config": {"authorization": {"credentials": MARK}},
    },
    "email_configs": {
        "to": "a@example.org",
        "from": "b@example.org",
        "smarthost": "smtp.example.org:587",
        "auth_username": "alice",
        "auth_password": MARK,
        "auth_secret": MARK,
    },
    "pagerduty_configs": {"routing_key": MARK},
    "opsgenie_configs": {"api_key": MARK},
    "servicenow_configs": {
        "instance_url": "https://acme.service-now.com",
        "username": "alerts.bot",
        "password": MARK,
    },
    "apprise_configs": {"urls": [f"json://h.example/{MARK}"]},
}
"""An entry of every channel type with each secret it can hold alongside the others set."""


def shown(config: ChannelConfig) -> list[str]:
    """Every way the config may be printed."""
    rich_pretty = pytest.importorskip("rich.pretty")
    return [repr(config), str(config), f"{config}", rich_pretty.pretty_repr(config)]


def test_webhook_masks_its_url_and_the_nested_http_config_secrets() -> None:
    for http_config, kept in [
        ({"authorization": {"type": "Token", "credentials": MARK}}, "type='Token'"),
        ({"basic_auth": {"username": "jörg", "password": MARK}}, "username='jörg'"),
        ({"bearer_token": MARK}, "authorization=None"),
    ]:
        entry = {"url": f"https://h.example/{MARK}", "max_alerts": 2, "http_config": http_config}
        config = msgspec.convert(entry, WebhookConfig)
        for text in shown(config):
            assert MARK not in text
            assert text.count(SECRET_PLACEHOLDER) == 2  # url and the one http_config secret
            assert "max_alerts=2" in text
            assert kept in text
    assert repr(config) == (
        "WebhookConfig(send_resolved=True, url=<secret>, max_alerts=2, timeout=10.0, "
        "http_config=HttpConfig(authorization=None, basic_auth=None, bearer_token=<secret>))"
    )


def test_email_masks_password_and_shared_secret_only() -> None:
    config = msgspec.convert(SAMPLES["email_configs"], EmailConfig, strict=False)
    text = repr(config)
    assert "auth_password=<secret>" in text
    assert "auth_secret=<secret>" in text
    assert "auth_username='alice'" in text
    assert "to='a@example.org'" in text
    assert "from_='b@example.org'" in text
    assert MARK not in text
    # An unset secret prints as what it is: nothing is hidden that is not there.
    unset = msgspec.convert({**SAMPLES["email_configs"], "auth_secret": ""}, EmailConfig)
    assert "auth_secret=''" in repr(unset)


def test_apprise_masks_the_whole_url_list() -> None:
    config = msgspec.convert(SAMPLES["apprise_configs"], AppriseConfig, strict=False)
    for text in shown(config):
        assert "urls=<secret>" in text
        assert MARK not in text
        assert "json://" not in text
        assert "body_format='text'" in text


def test_every_channel_config_masks_every_secret() -> None:
    specs = channel_specs()
    assert set(SAMPLES) == set(specs), "add a sample entry for each new channel type"
    for key, entry in SAMPLES.items():
        config = msgspec.convert(entry, specs[key].config_type, strict=False)
        assert MARK in msgspec.json.encode(config).decode()  # the sample does hold secrets
        for text in shown(config):
            assert MARK not in text, (key, text)
            assert text.startswith(f"{type(config).__name__}(")
            assert SECRET_PLACEHOLDER in text
