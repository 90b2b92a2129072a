"""Bytes and characters that look almost right: a 400 in the error shape, never a 500.

Every list and every body-taking operation is found in the served OpenAPI document, so an
operation added later is covered without touching this file.
"""

from __future__ import annotations

import json

import pytest
from litestar import Request
from litestar.exceptions import ClientException

from app.customers.schemas import CustomerCreate
from app.http.parsing import read_body
from tests.test_errors import assert_error

# str.isdigit() accepts all of these, int() refuses the first two and reads the others
NON_ASCII_DIGITS = ["²", "①", "٣", "３"]


@pytest.fixture(scope="module")
async def document(client) -> dict:
    return (await client.get("/openapi.json")).json()


def operations(document: dict, method: str) -> list[tuple[str, dict]]:
    return [(path, item[method]) for path, item in document["paths"].items() if method in item]


def list_paths(document: dict) -> list[str]:
    """Every GET that takes `limit`, its {id} aimed at display_id 1."""
    paths = [
        path.replace("{id}", "1") for path, operation in operations(document, "get")
        if any(p["name"] == "limit" for p in operation.get("parameters", []))
    ]
    assert {"/customers", "/contacts", "/onboardings", "/webhook_endpoints", "/events",
            "/webhook_endpoints/1/deliveries"} <= set(paths)
    return paths


def body_operations(document: dict) -> list[tuple[str, str, dict]]:
    """(method, path, example body) of every operation that reads a JSON body."""
    found = [
        (method, path.replace("{id}", "1"), operation["requestBody"])
        for method in ("post", "patch") for path, operation in operations(document, method)
        if "requestBody" in operation
    ]
    assert len(found) >= 8  # create and update of four resources
    return [
        (method, path, body["content"]["application/json"]["example"])
        for method, path, body in found
    ]


def with_invalid_utf8(example: dict) -> bytes:
    """The example as JSON, its first string value starting with a byte UTF-8 never has."""
    raw = json.dumps(example).encode()
    at = raw.index(b'": "') + len(b'": "')
    return raw[:at] + b"\xff" + raw[at:]


async def send(client, method: str, path: str, raw: bytes, auth: dict):
    headers = {**auth, "content-type": "application/json"}
    return await client.request(method.upper(), path, content=raw, headers=headers)


@pytest.mark.parametrize("value", NON_ASCII_DIGITS)
async def test_a_limit_of_non_ascii_digits_is_400_on_every_list(client, auth, document, value):
    for path in list_paths(document):
        response = await client.get(path, params={"limit": value}, headers=auth)
        assert_error(response, 400, "parameter_invalid", "limit")


@pytest.mark.parametrize("value", ["2026-05-26T17:21:09.412345Z\x00", "２０２６-05-26", "2026-05-2６"])
async def test_a_cursor_with_nul_or_non_ascii_digits_is_400_on_every_list(
    client, auth, document, value
):
    for path in list_paths(document):
        response = await client.get(path, params={"cursor": value}, headers=auth)
        assert_error(response, 400, "parameter_invalid", "cursor")


@pytest.mark.parametrize("value", NON_ASCII_DIGITS)
async def test_non_ascii_digits_as_a_path_id_are_404(client, auth, document, value):
    paths = [path for path, _ in operations(document, "get") if "{id}" in path]
    assert len(paths) >= 6
    for path in paths:
        response = await client.get(path.replace("{id}", value), headers=auth)
        assert_error(response, 404, "resource_not_found", "id" if "deliveries" in path else None)


@pytest.mark.parametrize("value", NON_ASCII_DIGITS)
async def test_non_ascii_digits_in_filters_are_refused(client, auth, value):
    is_primary = await client.get("/contacts", params={"is_primary": value}, headers=auth)
    assert_error(is_primary, 400, "parameter_invalid", "is_primary")
    customer = await client.get("/contacts", params={"customer": value}, headers=auth)
    assert_error(customer, 404, "resource_not_found", "customer")


async def test_invalid_utf8_in_a_string_value_is_invalid_json_on_every_body(
    client, auth, document
):
    for method, path, example in body_operations(document):
        response = await send(client, method, path, with_invalid_utf8(example), auth)
        assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "raw",
    [b'{"\xff": 1}', b'{"name": "\xed\xa0\x80"}', b'{"name": "\xc3"}',
     # msgspec reports the wrong type first; the body is still not JSON
     b'{"name": 1, "note": "\xff"}'],
    ids=["key", "surrogate", "truncated", "after-a-type-error"],
)
async def test_invalid_utf8_anywhere_is_invalid_json_on_every_body(client, auth, document, raw):
    for method, path, _ in body_operations(document):
        response = await send(client, method, path, raw, auth)
        error = assert_error(response, 400, "invalid_json")
        assert "UTF-8" in error["message"]


async def test_a_non_ascii_content_length_is_a_400():
    # HTTP servers refuse such a header; one an ASGI server passes on must not cause a 500
    body = b'{"name": "A"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", "²".encode("latin-1"))]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers,
             "query_string": b"", "app": None}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    # Litestar's own 400, which the app answers in the error shape (tests/test_errors.py)
    with pytest.raises(ClientException) as refused:
        await read_body(Request(scope, receive), CustomerCreate)
    assert refused.value.status_code == 400
