"""The token format: `enc:v1:<data-key-id>:<base64url(nonce || ciphertext || tag)>`.

One ASCII string, safe in any text column. The base64url part has no padding and must be
canonical, so every bit of a token matters: no two strings decode to the same bytes.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from core_alerts.crypto.errors import MalformedToken

HEADER = "enc:v1:"
NONCE_BYTES = 12
TAG_BYTES = 16

_LOOKS_LIKE_TOKEN = re.compile(r"enc:v[0-9]+:")
_KEY_ID = re.compile(r"([ts])([1-9][0-9]{0,8})")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ParsedToken:
    key_id: str
    for_subject: bool
    version: int
    nonce: bytes
    sealed: bytes  # ciphertext followed by the 16-byte tag


def is_encrypted(value: str) -> bool:
    """True if `value` is a token of this scheme (any format version, even a damaged one).

    Values written before encryption was enabled are plaintext and answer False, so a
    migration can encrypt them. A damaged token still answers True: it must fail loudly in
    decrypt(), never be taken for plaintext.
    """
    return _LOOKS_LIKE_TOKEN.match(value) is not None


def format_token(key_id: str, nonce: bytes, sealed: bytes) -> str:
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
    return f"{HEADER}{key_id}:{body}"


def parse_token(token: str) -> ParsedToken:
    if not token.startswith(HEADER):
        if is_encrypted(token):
            raise MalformedToken("token has an unsupported format version (this build reads v1)")
        raise MalformedToken("value is not an encrypted token (expected 'enc:v1:...')")
    parts = token[len(HEADER) :].split(":")
    if len(parts) != 2:
        raise MalformedToken("token must have the form enc:v1:<key-id>:<base64url>")
    key_id, body = parts
    match = _KEY_ID.fullmatch(key_id)
    if match is None:
        raise MalformedToken("token names no valid data key id (expected t<n> or s<n>)")
    raw = _decode_body(body)
    return ParsedToken(
        key_id=key_id,
        for_subject=match.group(1) == "s",
        version=int(match.group(2)),
        nonce=raw[:NONCE_BYTES],
        sealed=raw[NONCE_BYTES:],
    )


def key_id_of(token: str) -> str:
    """The data key id a token was written with, e.g. 't3'; raises MalformedToken."""
    return parse_token(token).key_id


def _decode_body(body: str) -> bytes:
    if _BASE64URL.fullmatch(body) is None or len(body) % 4 == 1:
        raise MalformedToken("token body is not unpadded base64url")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != body:
        raise MalformedToken("token body is not canonical base64url")
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise MalformedToken("token body is too short to hold a nonce and a tag")
    return raw
