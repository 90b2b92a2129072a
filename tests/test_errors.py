"""One error shape for everything, including what the framework raises itself."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.resources import repo
from tests.conftest import make_settings, new_workspace


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["request-id"].startswith("req_")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"type", "code", "message", "field"}
    assert error["code"] == code
    assert error["message"]
    assert error.get("field") == field
    return error


async def test_unknown_route_is_404_route_not_found(client, auth):
    assert_error(await client.get("/nope", headers=auth), 404, "route_not_found")
    assert_error(await client.get("/customers/1/nope", headers=auth), 404, "route_not_found")


async def test_put_is_405_in_the_error_shape(client, auth):
    response = await client.put("/customers/1", json={"name": "x"}, headers=auth)
    error = assert_error(response, 405, "method_not_allowed")
    assert error["type"] == "invalid_request_error"
    assert "PUT" not in response.headers["allow"]


async def test_body_that_is_not_json_is_invalid_json(client, auth):
    response = await client.post(
        "/customers",
        content=b"{not json",
        headers={**auth, "content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_json")


async def test_empty_body_is_invalid_json(client, auth):
    response = await client.post(
        "/customers", content=b"", headers={**auth, "content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


async def test_non_json_content_type_is_415(client, auth):
    response = await client.post(
        "/customers", content=b"name=Acme",
        headers={**auth, "content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")
    response = await client.patch(
        "/customers/1", content=b"{}", headers={**auth, "content-type": "text/plain"}
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_body_over_one_mebibyte_is_413(client, auth):
    body = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = await client.post(
        "/customers", content=body, headers={**auth, "content-type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")


async def test_json_that_is_not_an_object_is_400(client, auth):
    response = await client.post("/customers", json=[1, 2], headers=auth)
    assert_error(response, 400, "parameter_invalid")


async def test_nested_field_errors_use_a_dotted_path(client, auth):
    response = await client.post(
        "/customers", json={"name": "A", "metadata": {"plan": 1}}, headers=auth
    )
    assert_error(response, 400, "parameter_invalid", "metadata")


async def test_unhandled_exception_is_500_without_internals(client, auth, monkeypatch):
    async def explode(*args, **kwargs):
        raise RuntimeError("secret SQL: select password from users")

    monkeypatch.setattr(repo, "list_page", explode)
    response = await client.get("/customers", headers=auth)
    error = assert_error(response, 500, "internal_error")
    assert error["type"] == "api_error"
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_database_outage_is_503_and_recovers_by_itself(databases, servers):
    database_url = await databases.clone()
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(servers.database_url)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    workspace = await new_workspace(pool)
    await pool.close()
    app = create_app(make_settings(database_url, servers.redis_url))
    try:
        async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
            assert (await client.get("/customers", headers=workspace.live)).status_code == 200
            await admin.execute(f'alter database "{name}" allow_connections false')
            await admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", name
            )
            during = await client.get("/customers/1", headers=workspace.live)
            assert_error(during, 503, "service_unavailable")
            health = await client.get("/health")
            assert health.status_code == 503
            assert health.json()["postgres"] == "down"
            await admin.execute(f'alter database "{name}" allow_connections true')
            # through PgBouncer, a refused server login makes it refuse logins for a while
            # (server_login_retry) before it tries again
            for _ in range(300):
                after = await client.get("/customers", headers=workspace.live)
                if after.status_code != 503:
                    break
                await asyncio.sleep(0.1)
            assert after.status_code == 200
    finally:
        await admin.execute(f'alter database "{name}" allow_connections true')
        await admin.close()


@pytest.mark.parametrize("path", ["/customers", "/customers/1", "/events"])
async def test_every_response_carries_a_request_id(client, auth, path):
    response = await client.get(path, headers=auth)
    assert response.headers["request-id"].startswith("req_")
