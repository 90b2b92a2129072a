"""Fuzzing from the contract: `schemathesis run --checks all` against `pivotal serve`.

Schemathesis reads the served /api/v1/openapi.json and drives every operation through all its
phases (the document's examples, coverage of each constraint's edges, random valid and invalid
requests, and stateful sequences that follow created objects), applying every check it has:
no 5xx; only documented statuses, content types, headers and bodies; every request the
document calls invalid refused; every request it calls valid accepted (a schema-valid request
never meets a 400: each rule the server applies is stated in the document, and what only the
state decides, such as a reused Idempotency-Key, is a 409); 405 with `Allow` for undocumented
methods and an `Allow` on OPTIONS that lists exactly the documented ones; no reads of
deleted objects; no operation that works without a key. schemathesis.toml (read from the
repository's root) adds the size refusals, 413, 414 and 431, to what counts as refusing an
invalid request.

The seed is fixed, so a failure reproduces on the next run; PIVOTAL_FUZZ_EXAMPLES=300 runs
deeper. The same command, by hand, against `make dev`:
  schemathesis run http://127.0.0.1:8000/api/v1/openapi.json --checks all \\
      -H "Authorization: Bearer $KEY"
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.apiserver import start_api, wait_until_serving
from tests.conftest import new_workspace

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# per operation and phase; PIVOTAL_FUZZ_EXAMPLES=300 for a deeper run by hand
EXAMPLES = int(os.environ.get("PIVOTAL_FUZZ_EXAMPLES", "20"))
SEED = os.environ.get("PIVOTAL_FUZZ_SEED", "1")
RUN_TIMEOUT = 600
SEED_OBJECTS = (
    ("/customers", {"name": "Acme"}),
    ("/contacts", {"customer": 1, "email": "ada@acme.com"}),
    ("/onboardings", {"customer": 1, "name": "Go-live"}),
    ("/webhook_endpoints", {"url": "https://example.com/hooks", "enabled_events": ["*"]}),
)


@pytest.fixture
async def fuzzed_server(databases, servers, tmp_path):
    """`pivotal serve` on a database of its own (fuzzing leaves random objects behind), and a
    test key whose workspace holds object 1 of each kind to aim at."""
    database_url = await databases.clone()
    server = start_api(database_url, servers.redis_url, tmp_path / "serve.log")
    try:
        base = await wait_until_serving(server)
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            key = (await new_workspace(pool)).test_key
        finally:
            await pool.close()
        async with httpx.AsyncClient(base_url=base,
                                     headers={"Authorization": f"Bearer {key}"}) as client:
            for path, body in SEED_OBJECTS:
                response = await client.post(path, json=body)
                assert response.status_code == 201, response.text
        yield base, key
    finally:
        server.stop()


async def test_schemathesis_finds_nothing_with_every_check(fuzzed_server):
    base, key = fuzzed_server
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", f"{base}/openapi.json", "--checks", "all",
        "-H", f"Authorization: Bearer {key}", "--seed", SEED,
        "--max-examples", str(EXAMPLES), "--no-color",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-30000:]
    document = httpx.get(f"{base}/openapi.json").json()
    operations = sum(method in item for item in document["paths"].values()
                     for method in ("get", "post", "patch", "delete"))
    assert f"Tested: {operations}\n" in report, report[-5000:]
