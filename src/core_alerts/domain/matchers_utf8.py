"""Alertmanager's UTF-8 matcher syntax (0.27+, package `matcher/parse`): lexer and parser.

A label name or value is an unquoted literal (any text without reserved characters) or a
double-quoted Go string literal. Errors carry `start:end` column positions (counted in code
points) and read exactly as upstream's. Matchers are built by a caller-supplied `build`, so
this module stays free of any other one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
Build = Callable[[str, str, str], T]

# Go's unicode.IsSpace; Python's str.isspace() also accepts \x1c-\x1f.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
RESERVED = GO_SPACE | frozenset("{}!=~,\\\"'`")


class _Kind(enum.Enum):
    EOF = "EOF"
    OPEN = "{"
    CLOSE = "}"
    COMMA = ","
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"
    QUOTED = "quoted"
    UNQUOTED = "unquoted"


_PUNCTUATION = {"{": _Kind.OPEN, "}": _Kind.CLOSE, ",": _Kind.COMMA}
_OPERATORS = (_Kind.EQ, _Kind.NE, _Kind.RE, _Kind.NRE)
_TWO_CHAR_OPERATORS = {"=~": _Kind.RE, "!=": _Kind.NE, "!~": _Kind.NRE}
# A string ends at the first quote no backslash escapes; its escapes are checked later.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    value: str
    start: int
    end: int

    def where(self) -> str:
        return f"{self.start}:{self.end}"


_EOF = _Token(_Kind.EOF, "", 0, 0)


class _EndOfInput(ValueError):
    """The next token is the end of the input where the grammar wants more."""


def _tokenize(text: str) -> tuple[list[_Token], ValueError | None]:
    """The tokens up to the end, or up to the first lexical error, which is returned too:
    the parser raises it only on reaching it, so an earlier grammar error wins, as upstream."""
    tokens: list[_Token] = []
    pos, end = 0, len(text)
    while pos < end:
        start, ch = pos, text[pos]
        if ch in GO_SPACE:
            pos += 1
            continue
        if ch in _PUNCTUATION:
            kind, pos = _PUNCTUATION[ch], pos + 1
        elif text[pos : pos + 2] in _TWO_CHAR_OPERATORS:
            kind, pos = _TWO_CHAR_OPERATORS[text[pos : pos + 2]], pos + 2
        elif ch == "=":
            kind, pos = _Kind.EQ, pos + 1
        elif ch == "!":
            found = "unexpected end of input," if pos + 1 == end else "!:"
            return tokens, ValueError(f"{pos}:{pos + 1}: {found} expected one of '=~'")
        elif ch == '"':
            if (quoted := _QUOTED.match(text, pos)) is None:
                return tokens, ValueError(f'{start}:{end}: {text[start:]}: missing end "')
            kind, pos = _Kind.QUOTED, quoted.end()
        elif ch in RESERVED:
            return tokens, ValueError(f"{pos}:{pos + 1}: {ch}: invalid input")
        else:
            kind = _Kind.UNQUOTED
            while pos < end and text[pos] not in RESERVED:
                pos += 1
        tokens.append(_Token(kind, text[start:pos], start, pos))
    return tokens, None


# Escape letter -> byte: `\n` is a newline, `\"` a quote (`\'` is refused in a "-string).
_SIMPLE_ESCAPES = dict(zip('abfnrtv\\"', b'\a\b\f\n\r\t\v\\"', strict=True))
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_OCTAL_DIGITS = frozenset("01234567")
_HEX_WIDTHS = {"x": 2, "u": 4, "U": 8}


def _escape(body: str, at: int, out: bytearray) -> int:
    """Decode the Go escape whose letter is at `body[at]`; returns the index after it."""
    letter = body[at : at + 1]
    if letter in _SIMPLE_ESCAPES:
        out.append(_SIMPLE_ESCAPES[letter])
        return at + 1
    if letter in _HEX_WIDTHS:
        digits = body[at + 1 : at + 1 + _HEX_WIDTHS[letter]]
        if len(digits) != _HEX_WIDTHS[letter] or not set(digits) <= _HEX_DIGITS:
            raise ValueError("invalid hex escape")
        value = int(digits, 16)
        if letter == "x":
            out.append(value)  # one raw byte: may leave the result invalid UTF-8
        elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise ValueError("invalid code point escape")
        else:
            out += chr(value).encode("utf-8")
        return at + 1 + len(digits)
    digits = body[at : at + 3]
    if len(digits) == 3 and set(digits) <= _OCTAL_DIGITS and int(digits, 8) <= 0xFF:
        out.append(int(digits, 8))
        return at + 3
    raise ValueError("invalid escape")


def go_unquote(literal: str) -> str:
    """Go's strconv.Unquote for a double-quoted literal, plus upstream's UTF-8 check."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError("not a double-quoted string")
    body = literal[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch in '\n"':
            raise ValueError("unescaped newline or quote")
        if ch == "\\":
            i = _escape(body, i + 1, out)
            continue
        out += ch.encode("utf-8", "surrogatepass")
        i += 1
    return out.decode("utf-8")  # UnicodeDecodeError is a ValueError


def _text_of(token: _Token) -> str:
    if token.kind is not _Kind.QUOTED:
        return token.value
    try:
        return go_unquote(token.value)
    except ValueError:
        raise ValueError(f"{token.where()}: {token.value}: invalid input") from None


class _State(Protocol):
    def __call__(self) -> _State | None: ...


class _Parser(Generic[T]):
    """Upstream's state machine, state for state, so every error reads and points the same."""

    def __init__(self, text: str, build: Build[T]) -> None:
        self._tokens, self._lexical_error = _tokenize(text)
        self._next = 0
        self._cursor = 0  # where the last consumed token ends, as upstream reports it
        self._build = build
        self._open_brace = False
        self.matchers: list[T] = []

    def run(self) -> list[T]:
        state: _State | None = self._open
        while state is not None:
            state = state()
        return self.matchers

    def _look(self) -> _Token:
        """The next token without consuming it; the lexical error once it is reached."""
        if self._next < len(self._tokens):
            return self._tokens[self._next]
        if self._lexical_error is not None:
            raise self._lexical_error
        return _EOF

    def _consume(self, token: _Token) -> None:
        self._next += 1
        self._cursor = token.end

    def _peek(self, *kinds: _Kind) -> _Token:
        """The next token if it is one of `kinds`; raises `_EndOfInput` at the end."""
        token = self._look()
        if token.kind is _Kind.EOF:
            raise _EndOfInput("end of input")
        if token.kind not in kinds:
            raise ValueError(f"{token.where()}: unexpected {token.value}")
        return token

    def _take(self, *kinds: _Kind) -> _Token:
        token = self._peek(*kinds)
        self._consume(token)
        return token

    def _open(self) -> _State | None:
        token = self._look()
        if token.kind is _Kind.EOF:
            return self._end
        if token.kind is _Kind.OPEN:
            self._open_brace = True
            self._consume(token)
            token = self._look()
        if token.kind in (_Kind.EOF, _Kind.CLOSE):
            return self._close
        return self._matcher

    def _close(self) -> _State | None:
        try:
            self._take(_Kind.CLOSE)
        except ValueError as exc:
            if self._open_brace:
                raise ValueError(f"0:{self._cursor}: {exc}: expected close brace") from None
            return self._end  # no brace on either side: what follows is for `_end` to judge
        if not self._open_brace:
            raise ValueError(f"0:{self._cursor}: }}: expected opening brace")
        return self._end

    def _matcher(self) -> _State | None:
        name = _text_of(self._expect("expected label name", _Kind.QUOTED, _Kind.UNQUOTED))
        operator = self._expect(
            "expected an operator such as '=', '!=', '=~' or '!~'", *_OPERATORS
        ).kind.value
        value = _text_of(self._expect("expected label value", _Kind.UNQUOTED, _Kind.QUOTED))
        try:
            self.matchers.append(self._build(name, operator, value))
        except ValueError as exc:
            raise ValueError(f"failed to create matcher: {exc}") from None
        return self._after_matcher

    def _expect(self, wanted: str, *kinds: _Kind) -> _Token:
        try:
            return self._take(*kinds)
        except ValueError as exc:
            raise ValueError(f"{exc}: {wanted}") from None

    def _after_matcher(self) -> _State | None:
        try:
            token = self._peek(_Kind.COMMA, _Kind.CLOSE)
        except _EndOfInput:
            return self._close
        except ValueError as exc:
            raise ValueError(f"{exc}: expected a comma or close brace") from None
        return self._comma if token.kind is _Kind.COMMA else self._close

    def _comma(self) -> _State | None:
        self._expect("expected a comma", _Kind.COMMA)
        try:
            token = self._peek(_Kind.CLOSE, _Kind.UNQUOTED, _Kind.QUOTED)
        except _EndOfInput:
            return self._close
        except ValueError as exc:
            raise ValueError(f"{exc}: expected a matcher or close brace after comma") from None
        return self._close if token.kind is _Kind.CLOSE else self._matcher

    def _end(self) -> _State | None:
        try:
            token = self._look()
        except ValueError as exc:
            raise ValueError(f"{exc}: expected end of input") from None
        if token.kind is not _Kind.EOF:
            raise ValueError(f"{token.where()}: {token.value}: expected end of input")
        return None


def parse_matchers(text: str, build: Build[T]) -> list[T]:
    """Parse a list such as `{"service.name"="api", env=~"prod|stage",}` (braces optional).

    `build(name, op, value)` makes each matcher; a ValueError it raises (a bad regex) is
    reported as upstream's `failed to create matcher: ...`.
    """
    return _Parser(text, build).run()


def parse_matcher(text: str, build: Build[T]) -> T:
    """Parse exactly one matcher, in the same syntax (braces and a trailing comma allowed)."""
    found = parse_matchers(text, build)
    if not found:
        raise ValueError("no matchers")
    if len(found) > 1:
        raise ValueError(f"expected 1 matcher, found {len(found)}")
    return found[0]
