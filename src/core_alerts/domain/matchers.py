"""Label matchers with Alertmanager's semantics and its classic string syntax.

`=`, `!=`, `=~`, `!~`; regexes are fully anchored (`^(?:v)$`) and run on RE2, so a hostile
pattern cannot backtrack; an absent label matches as the empty string.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import re2

from core_alerts.domain import matchers_utf8


class MatchOp(enum.StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


# Alertmanager 0.25's pattern (`pkg/labels/parse.go`), on RE2 as in Go: same `\s` and `$`
# semantics, and linear time (Python's `re` is quadratic on long whitespace runs here).
_MATCHER_RE = re2.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$")
# Go's strings.TrimSpace (unicode.IsSpace); Python's str.strip() also trims \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20
_RE2_OPTIONS.log_errors = False
# RE2 (C++) error texts -> Go regexp/syntax texts, so messages match Alertmanager's.
_GO_REGEXP_ERRORS = {
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid repetition size": "invalid repeat count",
    "no argument for repetition operator": "missing argument to repetition operator",
    "trailing \\": "trailing backslash at end of expression",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
}


class Matcher:
    """One label matcher; compare with `matches(labels)`."""

    __slots__ = ("_regex", "name", "op", "value")

    def __init__(self, name: str, op: MatchOp | str, value: str) -> None:
        self.name = name
        self.op = MatchOp(op)
        self.value = value
        self._regex: Any = None
        if self.op in (MatchOp.RE, MatchOp.NRE):
            try:
                self._regex = re2.compile(f"^(?:{value})$", options=_RE2_OPTIONS)
            except re2.error as exc:
                raise ValueError(_go_regexp_error(exc)) from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NE:
            return actual != self.value
        hit = self._regex.match(actual) is not None
        return hit if self.op is MatchOp.RE else not hit

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Matcher):
            return NotImplemented
        return (self.name, self.op, self.value) == (other.name, other.op, other.value)

    def __hash__(self) -> int:
        return hash((self.name, self.op, self.value))

    def __repr__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op.value}"{escaped}"'

    @property
    def is_equality(self) -> bool:
        return self.op is MatchOp.EQ


def _go_regexp_error(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else str(exc)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    code, sep, arg = text.partition(": ")
    if not sep:
        return f"error parsing regexp: {text}"
    return f"error parsing regexp: {_GO_REGEXP_ERRORS.get(code, code)}: `{arg}`"


def _unescape(raw: str, original: str) -> str:
    expect_quote = raw.startswith('"')
    if expect_quote:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    last = len(raw) - 1
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            if ch == "n":
                out.append("\n")
            elif ch in ('"', "\\"):
                out.append(ch)
            else:
                out.append("\\" + ch)
            continue
        if ch == "\\":
            if i < last:
                escaped = True
                continue
            out.append("\\")
        elif ch == '"':
            if not expect_quote or i < last:
                raise ValueError(f"matcher value contains unescaped double quote: {original}")
            expect_quote = False
        else:
            out.append(ch)
    if expect_quote:
        raise ValueError(f"matcher value contains unescaped double quote: {original}")
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """Parse one classic matcher such as `job=~"api|web"`."""
    found = _MATCHER_RE.match(text)
    if found is None:
        raise ValueError(f"bad matcher format: {text}")
    name, op, raw = found.groups()
    return Matcher(name, op, _unescape(raw, raw))


def _split_top_level(text: str) -> list[str]:
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = False
    escaped = False
    for ch in text:
        # Mirrors Go's switch: a quoted comma leaves `escaped` as it is.
        if ch == ",":
            if not inside_quotes:
                tokens.append("".join(token))
                token = []
                continue
        elif ch == '"':
            if escaped:
                escaped = False
            else:
                inside_quotes = not inside_quotes
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    last = "".join(token).strip(_GO_SPACE)
    if last:
        tokens.append(last)
    return tokens


def parse_matchers(text: str) -> list[Matcher]:
    """Parse a classic matcher list such as `{alertname="Foo", env!~"dev|test"}`."""
    # Like Go: the braces are trimmed before any whitespace, so ` {a="1"}` is an error.
    body = text.removeprefix("{").removesuffix("}")
    return [parse_matcher(token) for token in _split_top_level(body)]


_R = TypeVar("_R")
MatcherSyntax = Literal["classic", "utf8", "fallback"]
"""Alertmanager's matcher parsers: `classic` (<= 0.26, `--enable-feature=classic-mode`),
`utf8` (`utf8-strict-mode`) and `fallback` (the default of 0.27+: classic input keeps working)."""


def parse_matchers_as(text: str, mode: MatcherSyntax) -> list[Matcher]:
    """Parse a matcher list the way Alertmanager does in `mode`; errors read as upstream's."""
    if mode == "classic":
        return parse_matchers(text)
    if mode == "utf8":
        return matchers_utf8.parse_matchers(text, Matcher)
    if mode == "fallback":
        return _fallback(text, lambda t: matchers_utf8.parse_matchers(t, Matcher), parse_matchers)
    raise ValueError(f"unknown matcher syntax {mode!r}: expected classic, utf8 or fallback")


def parse_matcher_as(text: str, mode: MatcherSyntax) -> Matcher:
    """Parse one matcher the way Alertmanager does in `mode` (API filters, amtool arguments).

    Like upstream's compat layer, the utf8 and fallback modes refuse a single matcher that
    starts with `{` or ends with `}`.
    """
    if mode == "classic":
        return parse_matcher(text)
    if mode not in ("utf8", "fallback"):
        raise ValueError(f"unknown matcher syntax {mode!r}: expected classic, utf8 or fallback")
    if text.startswith("{") or text.endswith("}"):
        raise ValueError(f"unexpected open or close brace: {text}")
    if mode == "utf8":
        return matchers_utf8.parse_matcher(text, Matcher)
    return _fallback(text, lambda t: matchers_utf8.parse_matcher(t, Matcher), parse_matcher)


def _fallback(text: str, utf8: Callable[[str], _R], classic: Callable[[str], _R]) -> _R:
    """Upstream runs both parsers: classic's result wins whenever it has one (it equals the
    UTF-8 result, or the two disagree and classic is kept); the UTF-8 result is used only for
    input that classic refuses; when both refuse, classic's error is raised."""
    try:
        return classic(text)
    except ValueError as exc:
        classic_error = exc
    try:
        return utf8(text)
    except ValueError:
        raise classic_error from None


def matches_all(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
