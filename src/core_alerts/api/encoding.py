"""Fast JSON responses (msgspec) and their OpenAPI documentation from the same Structs."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

REF = "#/components/schemas/{name}"


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(value), status, headers=headers, media_type="application/json"
    )


_SCHEMAS: dict[str, Any] = {}


def schema_of(tp: Any) -> dict[str, Any]:
    """JSON Schema reference for `tp`; its components are added to the OpenAPI document."""
    (ref,), components = msgspec.json.schema_components([tp], ref_template=REF)
    _SCHEMAS.update(components)
    return ref


def body_doc(tp: Any, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema_of(tp)}},
        }
    }


def response_doc(tp: Any, status: int = 200, description: str = "OK") -> dict[int | str, Any]:
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": schema_of(tp)}},
        }
    }


def components() -> dict[str, Any]:
    return dict(_SCHEMAS)
