"""The connection pool, the transaction helper, and the loader for sql/queries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path

import asyncpg
import msgspec

from app.settings import Settings

QUERIES_DIR = Path(__file__).resolve().parents[2] / "sql" / "queries"
_HEADER = re.compile(r"^-- name: (?P<name>[a-z0-9_.]+)\s*$", re.MULTILINE)


# `:name` parameters (not `::type` casts)
_NAMED = re.compile(r"(?<![:\w]):(?P<name>[a-z_][a-z0-9_]*)")


class Queries:
    """Named SQL blocks from sql/queries/*.sql, loaded once.

    Each block starts with `-- name: <name>` and a one-line `--` description; the name is
    prefixed with its file's stem: `customers.insert` lives in customers.sql. A block writes
    its parameters either as `$1, $2…` or by name as `:name`; named ones become `$n` in order
    of first use, and `parameters(name)` lists them, so callers pass values by name.
    """

    def __init__(self, directory: Path = QUERIES_DIR) -> None:
        self._sql: dict[str, str] = {}
        self._parameters: dict[str, tuple[str, ...]] = {}
        for path in sorted(directory.glob("*.sql")):
            for name, sql in _parse_blocks(path.stem, path.read_text()).items():
                self._sql[name], self._parameters[name] = _number_parameters(sql)

    def __getitem__(self, name: str) -> str:
        return self._sql[name]

    def parameters(self, name: str) -> tuple[str, ...]:
        """The names of a block's `:name` parameters, in `$n` order."""
        return self._parameters[name]

    def arguments(self, name: str, values: dict[str, object]) -> list[object]:
        """A block's arguments taken from `values` by parameter name."""
        return [values[parameter] for parameter in self._parameters[name]]

    def names(self) -> set[str]:
        return set(self._sql)


def _number_parameters(sql: str) -> tuple[str, tuple[str, ...]]:
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    text = "\n".join(
        line if line.lstrip().startswith("--") else _NAMED.sub(number, line)
        for line in sql.splitlines()
    )
    if order and "$1" in sql:
        raise ValueError(f"mixes $n and :name parameters:\n{sql}")
    return text, tuple(order)


def _parse_blocks(prefix: str, text: str) -> dict[str, str]:
    parts = _HEADER.split(text)
    # split() yields [preamble, name1, body1, name2, body2, ...]
    return {
        f"{prefix}.{name}": body.strip()
        for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


queries = Queries()
# every connection of the service says who it is: the change feed's horizon looks only at these,
# so whatever appends events must connect through create_pool (or set this name itself); behind
# PgBouncer the server session a transaction borrows is renamed to it first (check_session)
APPLICATION_NAME = "pivotal"


async def init_connection(conn: asyncpg.Connection) -> None:
    # json and jsonb travel as text both ways; msgspec does the (de)serialisation
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind,
            schema="pg_catalog",
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
            format="text",
        )


async def keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open transaction:
    nothing. By default asyncpg resets the session (RESET ALL, UNLISTEN *, ...) with one more
    round trip per request; the service never changes session state on pooled connections
    (its settings are connection defaults, its advisory locks are transaction-scoped, and the
    worker LISTENs on a connection of its own), so there is nothing to reset."""


async def create_pool(settings: Settings, **overrides: object) -> asyncpg.Pool:
    """One pool per process, with the bounds the change feed relies on."""
    timeouts = {
        "statement_timeout": str(settings.statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
    }
    options: dict[str, object] = {
        "min_size": settings.db_pool_min,
        "max_size": settings.db_pool_max,
        "init": init_connection,
        # no session reset on release: pooled connections must never change session state
        "reset": keep_session,
        "command_timeout": settings.statement_timeout_ms / 1000 + 5,
        "server_settings": {**timeouts, "application_name": APPLICATION_NAME},
    }
    if settings.db_pooler == "transaction":
        options.update(
            # a named prepared statement lives in one server session, and the pooler hands
            # each transaction whichever session is free: unnamed statements only
            statement_cache_size=0,
            # PgBouncer refuses startup parameters it does not track (application_name it
            # does: it sets it on the server session before each transaction it lends)
            server_settings={"application_name": APPLICATION_NAME},
            connection_class=_bounded_transactions(timeouts),
        )
    options.update(overrides)
    return await asyncpg.create_pool(settings.database_url, **options)


def _bounded_transactions(timeouts: dict[str, str]) -> type[asyncpg.Connection]:
    """A connection whose every transaction carries the timeouts, for a transaction pooler.

    A server session is shared with whoever the pooler lends it to next, so session settings
    are not ours to set; SET LOCAL lasts exactly one transaction. asyncpg opens a transaction
    with one simple-protocol `BEGIN ...;` and no arguments: the SET LOCALs ride in the same
    message, so they cost no round trip. Statements outside a transaction are bounded by the
    client's command_timeout (a cancel request, which PgBouncer forwards).
    """
    suffix = "".join(f" SET LOCAL {name} = {value};" for name, value in timeouts.items())

    class TransactionBoundedConnection(asyncpg.Connection):
        async def execute(self, query: str, *args: object, timeout: float | None = None) -> str:
            if not args and query.startswith("BEGIN"):
                query += suffix
            return await super().execute(query, *args, timeout=timeout)

    return TransactionBoundedConnection


async def connect_direct(settings: Settings) -> asyncpg.Connection:
    """A connection to PostgreSQL itself (never through the pooler), for session-bound work:
    LISTEN, and the CLI's statements with asyncpg's default named-statement cache."""
    return await asyncpg.connect(
        settings.direct_url, server_settings={"application_name": APPLICATION_NAME}
    )


class FeedHorizonUnsafe(RuntimeError):
    """The server sessions do not carry the service's application_name."""


async def check_session(conn: asyncpg.Connection) -> None:
    """The feed's horizon finds the service's open transactions by application_name: check once,
    at startup, that the server session a pooled transaction runs on carries it (a pooler that
    drops it, or PgBouncer's application_name_add_host, would let the feed skip events)."""
    async with conn.transaction():
        name = await conn.fetchval("select current_setting('application_name')")
    if name != APPLICATION_NAME:
        raise FeedHorizonUnsafe(
            f"database sessions are named {name!r}, not {APPLICATION_NAME!r}: the change feed's "
            "horizon cannot see this service's transactions (through PgBouncer, leave "
            "application_name_add_host off)"
        )


class ColumnMismatch(RuntimeError):
    """A query's columns are not the fields of the struct its rows are rendered into."""


async def check_columns(conn: asyncpg.Connection, shapes: dict[str, tuple[str, ...]]) -> None:
    """Rows are turned into structs by position, the fast way: check once, at startup, that
    each query (name -> the column names it must answer, in order) still answers them."""
    for name, expected in shapes.items():
        statement = await conn.prepare(queries[name])
        columns = tuple(attribute.name for attribute in statement.get_attributes())
        if columns != expected:
            raise ColumnMismatch(f"{name} answers {columns}, its struct needs {expected}")


# what to do once the transaction `transaction()` opened in this task has committed
_after_commit: ContextVar[list[Callable[[asyncpg.Pool], None]] | None] = ContextVar(
    "after_commit", default=None)


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside one transaction: everything a write does commits together. What
    the write registered with `after_commit` runs once it has committed (never after a
    rollback)."""
    token = _after_commit.set([])
    try:
        async with pool.acquire() as conn, conn.transaction():
            yield conn
        for callback in _after_commit.get() or ():
            callback(pool)
    finally:
        _after_commit.reset(token)


def after_commit(callback: Callable[[asyncpg.Pool], None]) -> None:
    """Call `callback(pool)` once the enclosing `transaction()` has committed (once, however
    often it is registered). A caller that runs its own transaction gets no callback."""
    callbacks = _after_commit.get()
    if callbacks is not None and callback not in callbacks:
        callbacks.append(callback)


# connection exceptions, insufficient resources, operator intervention (shutdown, restart),
# and a database that refuses connections or is missing while being restored
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_SQLSTATES = ("55000", "3D000")


def is_unavailable(exc: BaseException) -> bool:
    """True when the error means PostgreSQL or Redis cannot be reached right now."""
    import redis.exceptions

    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        return state[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or state in _UNAVAILABLE_SQLSTATES

    unavailable = (
        OSError,
        asyncpg.CannotConnectNowError,
        asyncpg.ConnectionDoesNotExistError,
        asyncpg.TooManyConnectionsError,
        asyncpg.InterfaceError,
        # a pooled connection the server just dropped can fail mid state change
        asyncpg.InternalClientError,
        asyncpg.AdminShutdownError,
        asyncpg.CrashShutdownError,
        asyncpg.ConnectionFailureError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        TimeoutError,
    )
    return isinstance(exc, unavailable)
