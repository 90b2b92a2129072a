"""Waking the webhook worker once events have committed.

A NOTIFY sent by the writing transaction would serialise the service's commits: PostgreSQL
keeps its notification queue in commit order by holding one database-wide lock from the moment
a notifying transaction starts to commit until its commit record is flushed, so no two writes
could flush together (under a backfill, a third of the database's samples were waits for that
lock). The writing transaction only asks for a wake-up; once it has committed, the process
sends one NOTIFY for every burst of such commits (those within 2 ms of each other), from a
transaction of its own that writes nothing and does not wait for a flush. The request never
waits for it. A wake-up lost between the two (a crash, the database going away) is made up by
the worker's sweep, every 2 seconds.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from app.core.db import after_commit

log = logging.getLogger("pivotal.events")
COALESCE_SECONDS = 0.002
# lower case: not taken for a transaction asyncpg opened (app/core/db.py: _bounded_transactions)
NOTIFY = ("begin; set local synchronous_commit = off; "
          "select pg_notify('pivotal_events', ''); commit")


# pools with a NOTIFY in flight -> whether another is due once it is done
_in_flight: dict[asyncpg.Pool, bool] = {}
_tasks: set[asyncio.Task] = set()


def _wake(pool: asyncpg.Pool) -> None:
    """One NOTIFY in flight per pool at most; wake-ups meanwhile make one more after it."""
    started = pool in _in_flight
    _in_flight[pool] = True
    if not started:
        task = asyncio.get_running_loop().create_task(_notify(pool))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


async def _notify(pool: asyncpg.Pool) -> None:
    try:
        while _in_flight[pool]:
            # the commits of the next moment share this NOTIFY: under a stream of writes a
            # process sends a few hundred a second, not one per write
            await asyncio.sleep(COALESCE_SECONDS)
            _in_flight[pool] = False
            await pool.execute(NOTIFY)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("cannot wake the webhook worker (%s); its sweep will", exc)
    finally:
        del _in_flight[pool]


def wake_worker_after_commit() -> None:
    """Have the enclosing transaction (app.core.db.transaction) wake the worker once it has
    committed."""
    after_commit(_wake)
