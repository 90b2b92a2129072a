"""Inputs the fuzzer found answering 500: text PostgreSQL cannot store, cursors out of range."""

from __future__ import annotations

import pytest

from tests.test_errors import assert_error


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ac\u0000me"}, "name"),
        ({"name": "Acme", "metadata": {"plan": "pro\u0000"}}, "metadata.plan"),
        ({"name": "Acme", "metadata": {"pl\u0000an": "pro"}}, "metadata"),
    ],
)
async def test_nul_character_in_a_body_is_400_on_its_field(client, auth, body, field):
    response = await client.post("/customers", json=body, headers=auth)
    assert_error(response, 400, "parameter_invalid", field)


async def test_escaped_backslash_u0000_is_ordinary_text(client, auth):
    response = await client.post("/customers", json={"name": "C:\\u0000"}, headers=auth)
    assert response.status_code == 201 and response.json()["name"] == "C:\\u0000"


async def test_nul_character_in_a_filter_is_400_on_the_filter(client, auth):
    response = await client.get("/contacts", params={"external_id": "a\u0000"}, headers=auth)
    assert_error(response, 400, "parameter_invalid", "external_id")


async def test_nul_character_in_an_idempotency_key_is_400(client, auth):
    response = await client.post(
        "/customers", json={"name": "A"}, headers={**auth, "Idempotency-Key": "k\u0000"}
    )
    assert_error(response, 400, "parameter_invalid", "Idempotency-Key")


@pytest.mark.parametrize(
    "cursor", ["0001-01-01T00:00:00+10:00", "9999-12-31T23:59:59-10:00"]
)
async def test_cursor_outside_the_representable_range_is_400(client, auth, cursor):
    response = await client.get("/events", params={"cursor": cursor}, headers=auth)
    assert_error(response, 400, "parameter_invalid", "cursor")
