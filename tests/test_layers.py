"""The switches `make bench` uses to measure each request layer (app.main.Layers)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.core.principal import Principal
from app.main import Layers, create_app


async def _get(settings, layers: Layers, headers: dict[str, str] | None = None):
    app = create_app(settings, layers)
    async with AsyncTestClient(app=app, base_url="http://testserver/api/v1") as client:
        return await client.get("/customers", headers=headers or {})


async def test_all_layers_on_by_default(settings, auth):
    response = await _get(settings, Layers(), auth)
    assert response.status_code == 200
    assert response.headers["request-id"].startswith("req_")
    assert "ratelimit-limit" in response.headers


async def test_without_auth_every_request_runs_as_the_fixed_principal(settings, workspace):
    principal = Principal("bench", workspace.id, True)
    response = await _get(settings, Layers(fixed_principal=principal))
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers


async def test_without_the_edge_responses_carry_no_request_id(settings, auth):
    response = await _get(settings, Layers(edge=False), auth)
    assert response.status_code == 200
    assert "request-id" not in response.headers
