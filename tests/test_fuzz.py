"""Fuzzing from the contract: every operation in the served OpenAPI document, driven by it.

Schemathesis generates valid and invalid requests from /api/v1/openapi.json and sends them to
the app in-process. Whatever it sends, the API must never answer 5xx, nor a status, header or
body the document does not describe, and must reject what the document calls invalid.
Schema-valid requests may still be refused: rules JSON Schema does not state (a hostname, an
immutable customer, no U+0000 in text) are 400s by design, so `positive_data_acceptance` is
not among the checks. Runs are derandomized, so a failure reproduces on the next run.
"""

from __future__ import annotations

import os

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi import checks

from app.main import create_app
from tests.conftest import Workspace, make_settings, new_workspace

# per operation and mode; PIVOTAL_FUZZ_EXAMPLES=500 for a deeper run by hand
EXAMPLES = int(os.environ.get("PIVOTAL_FUZZ_EXAMPLES", "25"))
SEED = (
    ("/customers", {"name": "Acme"}),
    ("/contacts", {"customer": 1, "email": "ada@acme.com"}),
    ("/onboardings", {"customer": 1, "name": "Go-live"}),
)
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
async def fuzz_database(databases) -> str:
    """A database of its own: fuzzing leaves random objects (and webhook URLs) behind."""
    return await databases.clone()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database, servers):
    """The app, run by schemathesis on its own event loop, and shut down after the module."""
    yield create_app(make_settings(fuzz_database, servers.redis_url))
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
async def fuzz_workspace(fuzz_database) -> Workspace:
    pool = await asyncpg.create_pool(fuzz_database, min_size=1, max_size=1)
    try:
        return await new_workspace(pool)
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def fuzz_key(fuzz_app, fuzz_workspace) -> str:
    """A test key whose workspace holds customer, contact and onboarding 1 to aim at."""
    with asgi.get_client(fuzz_app) as client:
        for path, body in SEED:
            response = client.post(f"/api/v1{path}", json=body, headers=fuzz_workspace.test)
            assert response.status_code == 201, response.text
    return fuzz_workspace.test["Authorization"]


def fuzz(operation, mode: GenerationMode, key: str) -> str | None:
    """Run one operation in one mode; the failure Schemathesis reports, if any."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode))
    def run(case) -> None:
        # The key is not generated (see below) but always sent: replacing a generated one would
        # turn a case that is invalid only in its Authorization header into a valid request,
        # which the API rightly accepts. Missing and wrong keys are tests/test_auth.py's.
        case.headers = {**(case.headers or {}), "Authorization": key}
        case.call_and_validate(checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to make invalid (an operation without parameters or body)
    except (AssertionError, BaseExceptionGroup) as failure:
        return f"{operation.label} ({mode.value}):\n{failure}"
    return None


def test_every_operation_keeps_the_documented_contract(fuzz_app, fuzz_key):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)
    schema.config.generation.update(with_security_parameters=False)
    # deletes last, so the seeded objects are there for the other operations
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.method.lower() == "delete",
    )
    assert len(operations) >= 17
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := fuzz(operation, mode, fuzz_key)) is not None
    ]
    assert not failures, "\n\n".join(failures)
