"""Workspaces and API keys: managed from the command line, never through the API."""

from __future__ import annotations

import hashlib
import secrets
import string

import asyncpg

from app.core.db import queries
from app.core.ids import new_id
from app.registry import OBJECT_TYPES

LIVE_PREFIX = "pivotal_"
TEST_PREFIX = "pivotal_test_"
KEY_RANDOM_CHARS = 40
_BASE62 = string.digits + string.ascii_letters


class WorkspaceError(Exception):
    """A command-line request about workspaces or keys that cannot be carried out."""


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def generate_key(livemode: bool) -> str:
    random_part = "".join(secrets.choice(_BASE62) for _ in range(KEY_RANDOM_CHARS))
    return (LIVE_PREFIX if livemode else TEST_PREFIX) + random_part


async def create_workspace(conn: asyncpg.Connection, name: str) -> dict:
    """Create a workspace with its display_id sequences."""
    if not name.strip():
        raise WorkspaceError("workspace name must not be empty")
    async with conn.transaction():
        try:
            row = await conn.fetchrow(queries["workspaces.insert_workspace"], new_id(), name)
        except asyncpg.UniqueViolationError:
            raise WorkspaceError(f"a workspace named {name!r} already exists") from None
        await conn.execute(queries["workspaces.create_sequences"], row["id"], list(OBJECT_TYPES))
    return dict(row)


async def find_workspace(conn: asyncpg.Connection, id_or_name: str) -> dict:
    row = await conn.fetchrow(queries["workspaces.find_workspace"], id_or_name)
    if row is None:
        raise WorkspaceError(f"no workspace with id or name {id_or_name!r}")
    return dict(row)


async def create_key(conn: asyncpg.Connection, workspace: str, *, livemode: bool) -> dict:
    """Create an API key; the returned `key` is the only time it is ever shown."""
    found = await find_workspace(conn, workspace)
    key = generate_key(livemode)
    row = await conn.fetchrow(
        queries["workspaces.insert_key"], new_id(), found["id"], livemode, hash_key(key), key[-4:]
    )
    return {
        "object": "api_key",
        "id": row["id"],
        "key": key,
        "livemode": row["livemode"],
        "workspace": row["workspace_id"],
        "created_at": row["created_at"],
    }


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> dict:
    row = await conn.fetchrow(queries["workspaces.revoke_key"], key_id)
    if row is None:
        raise WorkspaceError(f"no API key with id {key_id!r}")
    return {"object": "api_key", "id": row["id"], "revoked": True, "revoked_at": row["revoked_at"]}
