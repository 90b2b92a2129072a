"""examples/internal-app: its server, as a user starts it, driven in a real headless Chromium
(Debian's `chromium`, through playwright-core) against the served API."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.sdk.typescript import node
from tests.sdk.typescript.conftest import keys_for

CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium for the browser test: install it with "
                    "`apt-get update && apt-get install -y chromium` (as root; .ci/run does)")
async def test_the_internal_app_shows_active_onboardings_in_a_browser(node_toolchain, api):
    files = sorted((node.INTERNAL_APP / "test").glob("*.test.js"))
    keys = await keys_for(api, files)
    env = {"PIVOTAL_BASE_URL": api.base_url, "PIVOTAL_TEST_KEYS": node.dumps(keys),
           "CHROMIUM_PATH": CHROMIUM}
    result = await asyncio.to_thread(node.node_test, files, env, 180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = node.summary(result.stdout)
    assert counts.get("fail") == 0 and counts.get("pass", 0) >= 3 and counts.get("skipped") == 0, output
