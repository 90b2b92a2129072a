"""The TypeScript SDK (sdk/typescript) against a real `pivotal serve`, PostgreSQL, Redis and
webhook worker: its node tests (sdk/typescript/test/) run under `node --test` with the served
API's URL and a fresh workspace's key per test file; the generated types are what the
generator makes of the API's document; and the package packs as published."""

from __future__ import annotations

import asyncio
import copy
import json

from app.main import RESOURCES
from app.openapi.document import build_document
from tests.conftest import new_workspace
from tests.sdk.typescript import node
from tests.sdk.typescript.conftest import keys_for

GENERATOR = node.SDK / "scripts" / "generate-types.mjs"


def _document() -> dict:
    return json.loads(json.dumps(build_document(RESOURCES)))


def _generate(document: dict) -> str:
    """What the generator makes of `document`, read from stdin."""
    script = (f"import {{ generate }} from {json.dumps(GENERATOR.as_uri())};"
              "const chunks = []; for await (const c of process.stdin) chunks.push(c);"
              "process.stdout.write(generate(JSON.parse(Buffer.concat(chunks))));")
    result = node.run([node.NODE, "--input-type=module", "-e", script], timeout=60,
                      input=json.dumps(document))
    return node.checked(result, "the type generator").stdout


async def test_the_sdk_passes_its_node_tests_against_the_served_api(
        node_toolchain, api, worker, limited_api):
    files = sorted((node.SDK / "build" / "test").glob("*.test.js"))
    assert len(files) >= 6, files
    keys = await keys_for(api, files)
    limited = await new_workspace(limited_api.pool)
    env = {"PIVOTAL_BASE_URL": api.base_url, "PIVOTAL_API_KEY": next(iter(keys.values())),
           "PIVOTAL_TEST_KEYS": node.dumps(keys), "PIVOTAL_LIMITED_BASE_URL": limited_api.base_url,
           "PIVOTAL_LIMITED_API_KEY": limited.live_key}
    result = await asyncio.to_thread(node.node_test, files, env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = node.summary(result.stdout)
    assert counts.get("fail") == 0 and counts.get("pass", 0) >= 30, output
    assert counts.get("skipped") == 0 and counts.get("todo") == 0, output


def test_committed_types_are_what_the_generator_makes_of_the_apps_document(node_toolchain):
    assert _generate(_document()) == (node.SDK / "src" / "types.ts").read_text(), (
        "sdk/typescript/src/types.ts is stale: run node sdk/typescript/scripts/generate-types.mjs")


def test_a_field_the_api_gains_changes_the_generated_types(node_toolchain):
    changed = copy.deepcopy(_document())
    customer = changed["components"]["schemas"]["Customer"]
    customer["properties"]["health_score"] = {"type": "integer"}
    customer["required"].append("health_score")
    generated = _generate(changed)
    interface = generated.split("export interface Customer {")[1].split("}")[0]
    assert "  healthScore: number;\n" in interface


def test_the_package_packs_the_compiled_sdk_and_nothing_else(node_toolchain):
    packed = json.loads(node.checked(
        node.npm("pack", "--dry-run", "--json", "--ignore-scripts", cwd=node.SDK), "npm pack").stdout)
    [package] = packed
    names = {entry["path"] for entry in package["files"]}
    assert {"package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/types.d.ts",
            "dist/webhooks.js"} <= names
    assert not any(name.startswith(("src/", "test/", "build/", "scripts/")) for name in names)
    manifest = json.loads((node.SDK / "package.json").read_text())
    assert package["name"] == "@pivotal/sdk" and "dependencies" not in manifest
    assert manifest["exports"]["."] == {"types": "./dist/index.d.ts", "import": "./dist/index.js"}
