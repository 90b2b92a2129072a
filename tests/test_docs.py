"""Health, the OpenAPI document and the rendered reference.

The error contract is checked from both ends: the codes the source can raise (read from the
source itself) against the served document, and real error responses against the documented
schema of their status.
"""

from __future__ import annotations

import ast
import asyncio
import secrets
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from app.core.db import queries
from app.core.errors import CODES
from app.main import create_app
from app.resources import repo
from tests.conftest import make_settings, new_workspace
from tests.test_errors import assert_error

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = "urn:pivotal:openapi"


def emitted_codes() -> dict[str, str]:
    """Every error code a string literal in app/ or worker/ raises, with where it is:
    `code="..."` keyword arguments and `code = "..."` class attributes (the exceptions'
    defaults)."""
    found: dict[str, str] = {}
    sources = [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("worker").rglob("*.py")]
    for path in sorted(sources):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            values = []
            if isinstance(node, ast.Call):
                values = [k.value for k in node.keywords if k.arg == "code"]
            elif isinstance(node, ast.ClassDef):
                values = [s.value for s in node.body if isinstance(s, ast.Assign)
                          and [getattr(t, "id", None) for t in s.targets] == ["code"]]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value] = f"{path.relative_to(ROOT)}:{value.lineno}"
    return found


def documented_statuses(document: dict) -> dict[str, int]:
    """code -> the status whose Error<status> component lists it."""
    statuses: dict[str, int] = {}
    for name, schema in document["components"]["schemas"].items():
        if name.removeprefix("Error").isdigit():
            narrowed = schema["allOf"][1]["properties"]["error"]["properties"]
            for code in narrowed["code"]["enum"]:
                assert code not in statuses, f"{code} is documented under two statuses"
                statuses[code] = int(name.removeprefix("Error"))
    return statuses


def validator(document: dict, schema: dict) -> Draft202012Validator:
    """A validator for `schema`, whose $refs point into the served document."""
    registry = Registry().with_resource(DOCUMENT, DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": DOCUMENT + schema["$ref"]}, registry=registry)


@pytest.fixture(scope="module")
async def document(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


async def test_openapi_document_is_valid_and_covers_every_operation(document):
    validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {
        (path, method) for path, item in document["paths"].items() for method in item
        if method != "parameters"
    }
    for path in ("/customers",):
        assert {(path, "post"), (path, "get")} <= operations
        assert {(path + "/{id}", m) for m in ("get", "patch", "delete")} <= operations
    assert {("/events", "get"), ("/events/{id}", "get"), ("/health", "get")} <= operations


async def test_every_error_code_the_source_raises_is_registered_and_documented(document):
    emitted = emitted_codes()
    # the scan sees both forms: a keyword argument and an exception's default
    assert emitted.keys() >= {"route_not_found", "missing_api_key", "parameter_invalid"}
    unregistered = {code: where for code, where in emitted.items() if code not in CODES}
    assert unregistered == {}
    assert set(CODES) - set(emitted) == set(), "registered codes nothing raises"
    documented = documented_statuses(document)
    assert {code: documented.get(code) for code in emitted} == {
        code: CODES[code].status for code in emitted
    }


async def test_every_error_example_matches_its_documented_schema(document):
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if int(status) < 400 or "example" not in response["content"]["application/json"]:
                    continue
                media = response["content"]["application/json"]
                assert media["schema"] == {"$ref": f"#/components/schemas/Error{status}"}
                errors = list(validator(document, media["schema"]).iter_errors(media["example"]))
                assert errors == [], (method, path, status, errors[0].message)
                checked += 1
    assert checked > 50


async def ordinary_errors(client, admin) -> dict[str, object]:
    """One real response for every code the shared app answers with, by code."""
    workspace = await new_workspace(admin)
    auth = workspace.live
    as_json = {**auth, "content-type": "application/json"}
    customer = (await client.post("/customers", json={"name": "A", "external_id": "x"},
                                  headers=auth)).json()
    onboarding = (await client.post(
        "/onboardings", json={"customer": customer["id"], "name": "O"}, headers=auth)).json()
    await client.patch(f"/onboardings/{onboarding['id']}", json={"status": "cancelled"},
                       headers=auth)
    other = (await client.post("/customers", json={"name": "Other"}, headers=auth)).json()
    key = {**auth, "Idempotency-Key": secrets.token_hex(8)}
    await client.post("/customers", json={"name": "K"}, headers=key)
    responses = {
        "parameter_missing": await client.post("/customers", json={}, headers=auth),
        "parameter_invalid": await client.get("/customers?limit=0", headers=auth),
        "parameter_unknown": await client.post(
            "/customers", json={"name": "A", "nmae": "A"}, headers=auth),
        "invalid_json": await client.post("/customers", content=b"{", headers=as_json),
        "idempotency_key_reused": await client.post("/customers", json={"name": "L"}, headers=key),
        "missing_api_key": await client.get("/customers"),
        "invalid_api_key": await client.get(
            "/customers", headers={"Authorization": "Bearer pivotal_nope"}),
        "resource_not_found": await client.get("/customers/999999", headers=auth),
        "route_not_found": await client.get("/nope", headers=auth),
        "method_not_allowed": await client.put("/customers/1", json={}, headers=auth),
        "resource_already_exists": await client.post(
            "/customers", json={"name": "B", "external_id": "x"}, headers=auth),
        "invalid_status_transition": await client.patch(
            f"/onboardings/{onboarding['id']}", json={"status": "active"}, headers=auth),
        "immutable_field": await client.patch(
            f"/onboardings/{onboarding['id']}", json={"customer": other["id"]}, headers=auth),
        "payload_too_large": await client.post(
            "/customers", content=b'{"name": "' + b"x" * (1 << 20) + b'"}', headers=as_json),
        "unsupported_media_type": await client.post(
            "/customers", content=b"name=A", headers={**auth, "content-type": "text/plain"}),
    }
    busy = secrets.token_hex(8)
    async with admin.acquire() as conn, conn.transaction():
        # the key held the way a first, still-running request holds it
        assert await conn.fetchval(queries["idempotency.try_lock"], workspace.id, True, busy)
        responses["idempotency_key_in_use"] = await client.post(
            "/customers", json={"name": "Busy"}, headers={**auth, "Idempotency-Key": busy})
    return responses


async def failure_errors(database_url, servers, admin, monkeypatch) -> dict[str, object]:
    """Real 429, 500 and 503 responses, from an app allowing each key one request."""
    live, test = (await new_workspace(admin)).live, (await new_workspace(admin)).test
    settings = make_settings(database_url, servers.redis_url, rate_limit_per_second=0.01,
                             rate_limit_burst=1, request_timeout_seconds=0.2)

    async def explode(*args, **kwargs):
        raise RuntimeError("boom")

    async def stuck(*args, **kwargs):
        await asyncio.sleep(30)

    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver/api/v1") as c:
        monkeypatch.setattr(repo, "list_page", explode)
        internal = await c.get("/customers", headers=live)
        limited = await c.get("/customers", headers=live)
        monkeypatch.setattr(repo, "list_page", stuck)
        unavailable = await c.get("/customers", headers=test)
    return {"internal_error": internal, "rate_limited": limited, "service_unavailable": unavailable}


async def request_head_errors(database_url, servers) -> dict[str, object]:
    """Real 400 malformed_request, 414 and 431, from `pivotal serve` itself: the server
    answers them before the app sees a request."""
    from tests.test_connection import HEALTH, exchange, parse, serving

    requests = {
        "malformed_request": b"GET /api/v1/health HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "uri_too_long": b"GET /api/v1/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "request_header_fields_too_large": HEALTH + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n",
    }
    responses = {}
    async with serving(database_url, servers.redis_url) as served:
        for code, request in requests.items():
            status, headers, body = parse(await exchange(served.port, request))
            responses[code] = httpx.Response(status, headers=headers, content=body)
    return responses


async def test_real_error_responses_match_the_documented_schema_of_their_status(
    document, client, admin, database_url, servers, monkeypatch
):
    responses = await ordinary_errors(client, admin)
    responses |= await failure_errors(database_url, servers, admin, monkeypatch)
    responses |= await request_head_errors(database_url, servers)
    assert set(responses) == set(CODES)  # a new code needs a real response here
    documented = documented_statuses(document)
    for code, response in responses.items():
        assert_error(response, documented[code], code, response.json()["error"].get("field"))
        schema = {"$ref": f"#/components/schemas/Error{response.status_code}"}
        errors = list(validator(document, schema).iter_errors(response.json()))
        assert errors == [], (code, response.json(), errors[0].message)
    statuses = {name for name in document["components"]["schemas"]
                if name.removeprefix("Error").isdigit()}
    assert {f"Error{r.status_code}" for r in responses.values()} == statuses


async def test_docs_page_renders_the_document(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.text


async def test_openapi_documents_the_errors_of_a_request_head_past_its_limits(client):
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for status, code in (("414", "uri_too_long"), ("431", "request_header_fields_too_large")):
        response = document["paths"]["/customers/{id}"]["get"]["responses"][status]
        assert response["content"]["application/json"]["schema"]["$ref"].endswith(f"Error{status}")
        assert set(response["headers"]) == {"Request-Id"}  # answered before any key is read
        assert schemas[f"Error{status}"]["allOf"][1]["properties"]["error"]["properties"][
            "code"]["enum"] == [code]
    error400 = schemas["Error400"]["allOf"][1]["properties"]["error"]["properties"]
    assert "malformed_request" in error400["code"]["enum"]
