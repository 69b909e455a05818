"""The two Teams payloads Alertmanager sends: a MessageCard (msteams) and a message with an
Adaptive Card attachment (msteamsv2)."""

from __future__ import annotations

from typing import Any

# themeColor of the MessageCard and TextBlock colour of the Adaptive Card, by group status.
_CARD_COLOR = {"firing": "8C1A1A", "resolved": "2DC72D"}
_ADAPTIVE_COLOR = {"firing": "Attention", "resolved": "Good"}


def message_card(*, title: str, summary: str, text: str, status: str) -> dict[str, Any]:
    return {
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": title,
        "summary": summary,
        "text": text,
        "themeColor": _CARD_COLOR.get(status, "808080"),
    }


def adaptive_card_message(*, title: str, text: str, status: str) -> dict[str, Any]:
    heading = {
        "type": "TextBlock",
        "text": title,
        "weight": "Bolder",
        "size": "Medium",
        "wrap": True,
        "style": "heading",
        "color": _ADAPTIVE_COLOR.get(status, "Warning"),
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [heading, {"type": "TextBlock", "text": text, "wrap": True}],
                    "msteams": {"width": "full"},
                },
            }
        ],
    }
