"""`pivotal` commands print one JSON object and exit 0, or print an error and exit non-zero."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from tests.conftest import service_env


@pytest.fixture
def pivotal(database_url, servers):
    env = service_env(database_url, servers.redis_url)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app.ops.cli", *args], env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )

    return run


def output(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_workspace_and_keys_lifecycle(pivotal, client):
    name = f"cli-{secrets.token_hex(4)}"
    workspace = output(pivotal("workspaces", "create", name))
    assert workspace["object"] == "workspace" and workspace["name"] == name

    test_key = output(pivotal("keys", "create", name, "--test"))
    assert test_key["object"] == "api_key"
    assert test_key["key"].startswith("pivotal_test_")
    assert test_key["livemode"] is False
    assert test_key["workspace"] == workspace["id"]

    live_key = output(pivotal("keys", "create", workspace["id"]))
    assert live_key["key"].startswith("pivotal_") and live_key["livemode"] is True

    revoked = output(pivotal("keys", "revoke", live_key["id"]))
    assert revoked["id"] == live_key["id"] and revoked["revoked"] is True


def test_duplicate_workspace_name_fails_with_a_message(pivotal):
    name = f"cli-{secrets.token_hex(4)}"
    output(pivotal("workspaces", "create", name))
    again = pivotal("workspaces", "create", name)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_unknown_workspace_or_key_fails(pivotal):
    assert pivotal("keys", "create", "no-such-workspace").returncode != 0
    assert pivotal("keys", "revoke", "no-such-key").returncode != 0


def test_migrate_is_idempotent(pivotal):
    assert output(pivotal("migrate"))["object"] == "migration"
