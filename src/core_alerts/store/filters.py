"""SQL WHERE clauses for AlertQuery, written with `?` placeholders (backends may renumber)."""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from core_alerts.domain.matchers import MatchOp
from core_alerts.store.ports import AlertQuery

Dialect = Literal["sqlite", "postgres"]
_CLASSIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

ACTIVE = ("firing", "acknowledged", "suppressed")


def _status_clause(statuses: list[str], now: float, params: list[Any]) -> str:
    """Active statuses exclude alerts past endsAt; `resolved` includes them."""
    parts = []
    active = [s for s in statuses if s in ACTIVE]
    if active:
        marks = ", ".join("?" for _ in active)
        parts.append(f"(status IN ({marks}) AND (ends_at IS NULL OR ends_at > ?))")
        params.extend(active)
        params.append(now)
    if "resolved" in statuses:
        parts.append("(status = 'resolved' OR (ends_at IS NOT NULL AND ends_at <= ?))")
        params.append(now)
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def where_clause(
    tenant_id: str, query: AlertQuery, now: float, dialect: Dialect = "sqlite"
) -> tuple[str, list[Any]]:
    params: list[Any] = [tenant_id]
    clauses = ["tenant_id = ?"]
    clauses.extend(_label_equalities(query, dialect, params))
    if query.statuses:
        clauses.append(_status_clause(query.statuses, now, params))
    if query.severities:
        clauses.append(f"severity IN ({', '.join('?' for _ in query.severities)})")
        params.extend(query.severities)
    if query.since is not None:
        clauses.append("last_seen >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("starts_at <= ?")
        params.append(query.until)
    if query.after_seq is not None:
        clauses.append("seq < ?")
        params.append(query.after_seq)
    if query.text:
        clauses.append(_text_clause(query.text, params))
    return " AND ".join(clauses), params


def _label_equalities(query: AlertQuery, dialect: Dialect, params: list[Any]) -> list[str]:
    """`name="value"` matchers as SQL, so the database drops non-matching rows before they are
    decoded (a selective filter over 100,000 active alerts reads a handful of rows). The
    matchers still run in Python afterwards; only what SQL can say exactly is pushed down:
    a non-empty value (an empty one also matches an absent label) of a classic label name."""
    clauses = []
    for m in query.matchers:
        if m.op is not MatchOp.EQ or not m.value or not _CLASSIC_NAME.fullmatch(m.name):
            continue
        if dialect == "postgres":
            clauses.append("labels ->> ? = ?")
            params.extend([m.name, m.value])
        else:
            clauses.append("json_extract(labels, ?) = ?")
            params.extend([f'$."{m.name}"', m.value])
    return clauses


def _text_clause(text: str, params: list[Any]) -> str:
    """Substring of the JSON text of labels/annotations (as encoded there) or of the title
    and description; LIKE wildcards in the text are taken literally."""

    def like(value: str) -> str:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped.lower()}%"

    as_json = msgspec.json.encode(text).decode()[1:-1]
    params.extend([like(as_json), like(as_json), like(text), like(text)])
    columns = ("labels", "annotations", "title", "description")
    return "(" + " OR ".join(f"lower(CAST({c} AS TEXT)) LIKE ? ESCAPE '\\'" for c in columns) + ")"
