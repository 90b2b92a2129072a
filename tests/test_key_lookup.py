"""A wrong key is refused the same way however much of it matches a real key.

Checked by structure rather than by timing (timing asserts flake): resolution hashes the
whole presented key first and then only ever compares hashes — in the cache and in one
indexed equality lookup — so no comparison sees a prefix of the secret.
"""

from __future__ import annotations

import hashlib

import pytest

from app.core.db import queries
from app.core.errors import AuthenticationFailed
from app.http import auth


class SpyPool:
    """A pool that records what each query was given."""

    def __init__(self, pool) -> None:
        self.pool, self.calls = pool, []

    async def fetchrow(self, sql: str, *args):
        self.calls.append((sql, args))
        return await self.pool.fetchrow(sql, *args)


class SpyCache(auth.KeyCache):
    def __init__(self) -> None:
        super().__init__(ttl=60)
        self.lookups: list[bytes] = []

    def get(self, digest: bytes):
        self.lookups.append(digest)
        return super().get(digest)


def near_misses(key: str) -> list[str]:
    """Wrong keys sharing nothing, the prefix only, half, or all but the last character."""
    prefix, secret = "pivotal_", key.removeprefix("pivotal_")
    flip = {"a": "b"}.get(secret[-1], "a")
    return [
        "pivotal_" + "Z" * len(secret),
        prefix + secret[: len(secret) // 2] + "Z" * (len(secret) - len(secret) // 2),
        prefix + secret[:-1] + flip,
        key + "x",
        key[:-1],
    ]


async def test_a_wrong_key_is_looked_up_only_by_its_hash(admin, workspace):
    for wrong in near_misses(workspace.live_key):
        pool, cache = SpyPool(admin), SpyCache()
        with pytest.raises(AuthenticationFailed) as refused:
            await auth.resolve_key(pool, cache, wrong)
        digest = hashlib.sha256(wrong.encode()).digest()
        assert cache.lookups == [digest]
        assert pool.calls == [(queries["workspaces.find_live_key"], (digest,))]
        assert refused.value.code == "invalid_api_key"
        assert str(refused.value) == "Invalid API key provided"


async def test_the_real_key_takes_the_same_path(admin, workspace):
    pool, cache = SpyPool(admin), SpyCache()
    principal = await auth.resolve_key(pool, cache, workspace.live_key)
    digest = hashlib.sha256(workspace.live_key.encode()).digest()
    assert principal.key_id == workspace.live_key_id
    assert cache.lookups == [digest] and pool.calls[0][1] == (digest,)


def test_the_stored_key_is_compared_by_hash_equality_only():
    sql = " ".join(queries["workspaces.find_live_key"].split()).lower()
    assert "where key_hash = $1 and revoked_at is null" in sql
    assert " like " not in sql and "key_hash <" not in sql and "substr" not in sql


async def test_near_misses_are_refused_with_one_answer(client, workspace):
    answers = set()
    for wrong in near_misses(workspace.live_key):
        response = await client.get("/customers", headers={"Authorization": f"Bearer {wrong}"})
        answers.add((response.status_code, response.json()["error"]["message"]))
    assert answers == {(401, "Invalid API key provided")}
