"""Write the OpenAPI document and the endpoint table of docs/api.md from the app itself.

Run `python -m core_alerts.api.reference docs`; a test keeps both files in step with the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core_alerts.api.app import create_app
from core_alerts.app import EngineOrchestrator
from core_alerts.config import load_settings

BEGIN = "<!-- endpoints:begin -->"
END = "<!-- endpoints:end -->"


def openapi_document() -> dict[str, Any]:
    settings = load_settings({"database": {"sqlite_path": ":memory:"}}, environ={})
    return create_app(EngineOrchestrator(settings=settings)).openapi()


def endpoint_table(doc: dict[str, Any]) -> str:
    rows = ["| Method | Path | What it does |", "|---|---|---|"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            rows.append(f"| {method.upper()} | `{path}` | {op.get('summary', '')} |")
    return "\n".join(rows)


def render_api_md(current: str, doc: dict[str, Any]) -> str:
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{endpoint_table(doc)}\n{END}{tail}"


def render_openapi(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def main(folder: str) -> None:
    docs = Path(folder)
    doc = openapi_document()
    (docs / "openapi.json").write_text(render_openapi(doc))
    api_md = docs / "api.md"
    api_md.write_text(render_api_md(api_md.read_text(), doc))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs")
