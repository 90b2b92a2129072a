"""Typed settings, read from the environment once and passed in explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ENVIRONMENTS = ("development", "test", "production")
# "transaction": DATABASE_URL is a pooler in transaction mode (PgBouncer), see app/core/db.py
POOLERS = ("", "transaction")
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
DEFAULT_WEBHOOK_PORTS = (443, 80)


class SettingsError(ValueError):
    """A PIVOTAL_* or service variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    env: str = "development"
    # PostgreSQL itself, for what needs a session of its own (LISTEN, migrations, the CLI) when
    # database_url is a pooler; empty means database_url
    database_direct_url: str = ""
    db_pooler: str = ""
    # how long a resolved API key is trusted before it is looked up again (revocation delay)
    auth_cache_seconds: float = 5.0
    db_pool_min: int = 2
    db_pool_max: int = 10
    # a write transaction is bounded so the change feed's horizon can never stall for long
    statement_timeout_ms: int = 10_000
    idle_in_transaction_timeout_ms: int = 15_000
    webhook_retry_schedule: tuple[float, ...] = field(default=DEFAULT_RETRY_SCHEDULE)
    webhook_timeout: float = 15.0
    # the only ports a webhook URL may name in production; outside production any port is
    # accepted, so loopback receivers on ephemeral ports work in tests and under `make dev`
    webhook_allowed_ports: tuple[int, ...] = field(default=DEFAULT_WEBHOOK_PORTS)
    # an endpoint whose every attempt has failed for this long is disabled by the service
    webhook_disable_after: float = 5 * 24 * 3600.0
    # attempts in flight to one endpoint at once: a slow receiver cannot take every slot
    webhook_endpoint_concurrency: int = 10
    log_level: str = "INFO"
    # per API key, shared by all API processes through Redis; 0 turns the limit off
    rate_limit_per_second: float = 1000.0
    rate_limit_burst: int = 2000
    # per client address and API process: lookups of keys that turn out unknown; past the burst
    # an address's unknown keys get a 429 without the database lookup. 0 turns the check off
    auth_failures_per_second: float = 10.0
    auth_failures_burst: int = 20
    # a request still unanswered after this long gets a 503 (its work is cancelled)
    request_timeout_seconds: float = 30.0
    # a request's head (request line and headers), bounded before the app sees it: past a
    # size limit it is a 431 (a URL over the line limit, a 414); a connection whose head is
    # not complete this long after it opened, or after the head's first byte, is closed
    header_timeout_seconds: float = 10.0
    max_header_count: int = 100
    max_header_line_bytes: int = 8 * 1024
    max_header_bytes: int = 32 * 1024
    # PROMETHEUS_MULTIPROC_DIR, where an API process records its metrics (app/http/metrics.py);
    # `pivotal serve --metrics-port` sets it for its workers. Empty: no metrics are recorded
    metrics_dir: str = ""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def direct_url(self) -> str:
        """The URL of PostgreSQL itself, never of a pooler: for session-bound work."""
        return self.database_direct_url or self.database_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment (the CLI fills in DATABASE_URL and REDIS_URL from
        the local dev stack when they are unset, see app/ops/cli.py). DATABASE_DIRECT_URL
        defaults to DATABASE_URL."""
        env = os.environ if environ is None else environ
        database_url, redis_url = env.get("DATABASE_URL"), env.get("REDIS_URL")
        if not database_url or not redis_url:
            raise SettingsError(
                "DATABASE_URL and REDIS_URL must be set (or start a local stack with `make dev`)"
            )
        mode = env.get("PIVOTAL_ENV", "development")
        if mode not in ENVIRONMENTS:
            raise SettingsError(f"PIVOTAL_ENV must be one of {', '.join(ENVIRONMENTS)}")
        pooler = env.get("PIVOTAL_DB_POOLER", "")
        if pooler not in POOLERS:
            raise SettingsError("PIVOTAL_DB_POOLER must be empty or transaction")
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            env=mode,
            database_direct_url=env.get("DATABASE_DIRECT_URL", ""),
            db_pooler=pooler,
            auth_cache_seconds=_number(env, "PIVOTAL_AUTH_CACHE_SECONDS", 5.0),
            db_pool_min=int(_number(env, "PIVOTAL_DB_POOL_MIN", 2)),
            db_pool_max=int(_number(env, "PIVOTAL_DB_POOL_MAX", 10)),
            statement_timeout_ms=int(_number(env, "PIVOTAL_STATEMENT_TIMEOUT_MS", 10_000)),
            webhook_retry_schedule=_schedule(env.get("PIVOTAL_WEBHOOK_RETRY_SCHEDULE")),
            webhook_timeout=_number(env, "PIVOTAL_WEBHOOK_TIMEOUT", 15.0),
            webhook_allowed_ports=_ports(env.get("PIVOTAL_WEBHOOK_ALLOWED_PORTS")),
            webhook_disable_after=_number(env, "PIVOTAL_WEBHOOK_DISABLE_AFTER", 5 * 24 * 3600.0),
            webhook_endpoint_concurrency=max(
                1, int(_number(env, "PIVOTAL_WEBHOOK_ENDPOINT_CONCURRENCY", 10))),
            log_level=env.get("PIVOTAL_LOG_LEVEL", "INFO").upper(),
            rate_limit_per_second=_number(env, "PIVOTAL_RATE_LIMIT_PER_SECOND", 1000.0),
            rate_limit_burst=int(_number(env, "PIVOTAL_RATE_LIMIT_BURST", 2000)),
            auth_failures_per_second=_number(env, "PIVOTAL_AUTH_FAILURES_PER_SECOND", 10.0),
            auth_failures_burst=int(_number(env, "PIVOTAL_AUTH_FAILURES_BURST", 20)),
            request_timeout_seconds=_number(env, "PIVOTAL_REQUEST_TIMEOUT_SECONDS", 30.0),
            header_timeout_seconds=_positive(env, "PIVOTAL_HEADER_TIMEOUT_SECONDS", 10.0),
            max_header_count=int(_positive(env, "PIVOTAL_MAX_HEADER_COUNT", 100)),
            max_header_line_bytes=int(_positive(env, "PIVOTAL_MAX_HEADER_LINE_BYTES", 8 * 1024)),
            max_header_bytes=int(_positive(env, "PIVOTAL_MAX_HEADER_BYTES", 32 * 1024)),
            metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR", ""),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if value == 0:
        raise SettingsError(f"{name} must be greater than 0")
    return value


def _schedule(raw: str | None) -> tuple[float, ...]:
    if not raw:
        return DEFAULT_RETRY_SCHEDULE
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError("PIVOTAL_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds") from None
    if not delays or any(delay < 0 for delay in delays):
        raise SettingsError("PIVOTAL_WEBHOOK_RETRY_SCHEDULE must list non-negative seconds")
    return delays


def _ports(raw: str | None) -> tuple[int, ...]:
    if not raw:
        return DEFAULT_WEBHOOK_PORTS
    parts = [part.strip() for part in raw.split(",")]
    if not all(part.isascii() and part.isdigit() and 0 < int(part) < 65536 for part in parts):
        raise SettingsError("PIVOTAL_WEBHOOK_ALLOWED_PORTS must list ports from 1 to 65535")
    return tuple(int(part) for part in parts)
