"""What a result depends on besides the code: the machine, the versions, the settings."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import version

import asyncpg
import psutil
import redis

PACKAGES = ("litestar", "uvicorn", "uvloop", "httptools", "asyncpg", "msgspec")
PG_SETTINGS = ("shared_buffers", "max_connections", "fsync", "synchronous_commit")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _tool_version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0]


async def _postgres(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        server = await conn.fetchval("show server_version")
        settings = [f"{name}={await conn.fetchval(f'show {name}')}" for name in PG_SETTINGS]
    finally:
        await conn.close()
    return f"{server} ({', '.join(settings)})"


def _redis(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url)
    try:
        return client.info("server")["redis_version"]
    finally:
        client.close()


async def describe(database_url: str, redis_url: str, source: str, wrk: str,
                   pgbench: str) -> dict[str, str]:
    memory = psutil.virtual_memory().total / 2**30
    return {
        "machine": f"{_cpu_model()}, {psutil.cpu_count()} cores, {memory:.0f} GiB, "
                   f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "packages": ", ".join(f"{name} {version(name)}" for name in PACKAGES),
        "PostgreSQL": f"{await _postgres(database_url)}; {source}",
        "Redis": _redis(redis_url),
        "wrk": _tool_version([wrk, "-v"]),
        "pgbench": _tool_version([pgbench, "--version"]),
    }
