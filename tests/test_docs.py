"""Health, the OpenAPI document and the rendered reference."""

from __future__ import annotations

from openapi_spec_validator import validate


async def test_openapi_document_is_valid_and_covers_every_operation(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
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


async def test_openapi_documents_error_responses_with_examples(client):
    document = (await client.get("/openapi.json")).json()
    create = document["paths"]["/contacts"]["post"]
    for status in ("400", "401", "404", "409", "413", "415", "429", "500", "503"):
        content = create["responses"][status]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/Error{status}"}
        narrowed = document["components"]["schemas"][f"Error{status}"]["allOf"]
        assert narrowed[0] == {"$ref": "#/components/schemas/ErrorEnvelope"}
        codes = narrowed[1]["properties"]["error"]["properties"]["code"]["enum"]
        assert content["example"]["error"]["code"] in codes


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
