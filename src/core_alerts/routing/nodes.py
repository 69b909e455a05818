"""Typed reads of a composed YAML node tree; every error names the line it comes from."""

from __future__ import annotations

from typing import Any

import yaml

from core_alerts.domain.errors import ConfigError

_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"}
_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"}
_NULL = {"", "~", "null", "Null", "NULL"}


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def fail(node: yaml.Node, message: str, *, field: str | None = None) -> ConfigError:
    return ConfigError(f"line {line_of(node)}: {message}", field=field)


def compose(text: str) -> yaml.Node | None:
    """The document's node tree (safe loader); a syntax error names its line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(f"{where}invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}") from None


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and node.value in _NULL
    )


def mapping(node: yaml.Node, what: str, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """Keys -> value nodes; unknown keys are rejected when `allowed` is given (strict, as Go)."""
    if is_null(node):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise fail(node, f"{what} must be a mapping")
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = scalar_text(key_node, f"a key of {what}")
        if allowed is not None and key not in allowed:
            raise fail(key_node, f"field {key} not found in {what}", field=key)
        if key in out:
            raise fail(key_node, f"key {key!r} already set in {what}", field=key)
        out[key] = value_node
    return out


def sequence(node: yaml.Node, what: str) -> list[Any]:
    if is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise fail(node, f"{what} must be a list")
    return list(node.value)


def scalar_text(node: yaml.Node, what: str) -> str:
    """The scalar as Go's YAML decoder reads it into a string (null reads as "")."""
    if not isinstance(node, yaml.ScalarNode):
        raise fail(node, f"{what} must be a string")
    return "" if is_null(node) else str(node.value)


def boolean(node: yaml.Node, what: str) -> bool:
    text = scalar_text(node, what)
    if text in _TRUE:
        return True
    if text in _FALSE or is_null(node):
        return False
    raise fail(node, f"{what} must be true or false, not {text!r}")


def plain(node: yaml.Node) -> Any:
    """The node as plain Python data (for sections kept raw for later)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise fail(node, f"invalid value: {exc}") from None
    finally:
        loader.dispose()
