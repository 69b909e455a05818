"""docs/openapi.json and the endpoint table of docs/api.md follow the code."""

from __future__ import annotations

from pathlib import Path

from core_alerts.api.reference import openapi_document, render_api_md, render_openapi

DOCS = Path(__file__).resolve().parents[3] / "docs"
HOW = "run: python -m core_alerts.api.reference docs"


def test_openapi_copy_and_endpoint_table_are_current() -> None:
    doc = openapi_document()
    assert (DOCS / "openapi.json").read_text() == render_openapi(doc), HOW
    api_md = (DOCS / "api.md").read_text()
    assert api_md == render_api_md(api_md, doc), HOW
