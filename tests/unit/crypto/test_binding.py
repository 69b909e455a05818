"""A token decrypts only where it was written: same tenant, table, column, row and subject."""

from __future__ import annotations

from uuid import UUID

import pytest

from core_alerts.crypto import DataKeyUnavailable, DecryptionFailed, FieldCipher, FieldRef
from core_alerts.domain.errors import ValidationFailed

HOME = ("acme", "contacts", "email", 7)


@pytest.mark.parametrize(
    "elsewhere",
    [
        ("acme", "contacts", "email", 8),  # another row
        ("acme", "contacts", "phone", 7),  # another column
        ("acme", "receivers", "email", 7),  # another table
        ("acme", "contacts", "email", "70"),  # a row id that only shares a prefix
    ],
)
async def test_a_token_copied_elsewhere_in_the_tenant_fails(
    cipher: FieldCipher, elsewhere: tuple[str, str, str, int | str]
) -> None:
    token = await cipher.encrypt(*HOME, "ops@example.com")
    await cipher.encrypt(*elsewhere, "anything")  # the target place has its own value
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        await cipher.decrypt(*elsewhere, token)
    assert await cipher.decrypt(*HOME, token) == "ops@example.com"


async def test_a_token_copied_to_another_tenant_fails(cipher: FieldCipher) -> None:
    token = await cipher.encrypt(*HOME, "ops@example.com")
    with pytest.raises(DataKeyUnavailable, match="tenant 'globex' has no data key t1"):
        await cipher.decrypt("globex", "contacts", "email", 7, token)
    await cipher.encrypt("globex", "contacts", "email", 7, "x")  # now globex has a t1 too
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        await cipher.decrypt("globex", "contacts", "email", 7, token)


async def test_names_cannot_be_shifted_across_parts(cipher: FieldCipher) -> None:
    token = await cipher.encrypt("acme", "ab", "c", 1, "v")
    with pytest.raises(DecryptionFailed):
        await cipher.decrypt("acme", "a", "bc", 1, token)


async def test_a_token_copied_to_another_subject_fails(cipher: FieldCipher) -> None:
    token = await cipher.encrypt(*HOME, "+33 6 00 00 00 00", subject="contact-1")
    await cipher.encrypt(*HOME, "x", subject="contact-2")
    with pytest.raises(DecryptionFailed):
        await cipher.decrypt(*HOME, token, subject="contact-2")
    with pytest.raises(DecryptionFailed, match="pass the subject"):
        await cipher.decrypt(*HOME, token)
    tenant_token = await cipher.encrypt(*HOME, "x")
    with pytest.raises(DecryptionFailed, match="tenant's key"):
        await cipher.decrypt(*HOME, tenant_token, subject="contact-1")
    assert await cipher.decrypt(*HOME, token, subject="contact-1") == "+33 6 00 00 00 00"


async def test_int_str_and_uuid_row_ids_bind_by_their_text(cipher: FieldCipher) -> None:
    row = UUID("0190b5d4-9f3e-7c1a-8000-000000000001")
    token = await cipher.encrypt("acme", "t", "c", row, "v")
    assert await cipher.decrypt("acme", "t", "c", str(row), token) == "v"
    token = await cipher.encrypt("acme", "t", "c", 42, "v")
    assert await cipher.decrypt("acme", "t", "c", "42", token) == "v"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tenant_id": ""}, "tenant_id"),
        ({"table": ""}, "table"),
        ({"column": ""}, "column"),
        ({"row_id": ""}, "row_id"),
        ({"subject": ""}, "subject"),
    ],
)
def test_empty_names_are_refused(kwargs: dict[str, str], field: str) -> None:
    values: dict[str, str | int | None] = {
        "tenant_id": "acme",
        "table": "t",
        "column": "c",
        "row_id": 1,
        "subject": None,
    }
    values.update(kwargs)
    with pytest.raises(ValidationFailed) as caught:
        FieldRef(**values)  # type: ignore[arg-type]
    assert caught.value.field == field
