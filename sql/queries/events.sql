-- name: insert
-- Append one event to the outbox; a created_at taken in the same microsecond inserts nothing.
-- (The webhook worker is woken once the transaction has committed: app/events/wakeups.py.)
insert into events (id, workspace_id, livemode, display_id, type, object_id, data, created_at)
values ($1, $2, $3, nextval(display_id_sequence($2, $3, 'event')::regclass), $4, $5,
        $6::json, clock_timestamp())
on conflict (workspace_id, livemode, created_at) do nothing
returning id;

-- name: select
-- Events as served; the last column is the list cursor.
select 'event' as object, e.id, e.display_id, e.type, e.livemode,
       api_timestamp(e.created_at) as created_at, e.data::text as data,
       api_cursor(e.created_at) as cursor
from events e

-- name: horizon
-- The oldest start of any open transaction of this service on this database: an event not
-- yet committed was stamped after its transaction began, so every event older than this is
-- final. Only the service writes events, so other sessions (a backup, a BI query) are ignored.
-- Behind PgBouncer in transaction mode the server session a transaction borrows carries its
-- client's application_name from before its BEGIN (docs/SCALING.md, section 3).
select coalesce(min(xact_start), now()) from pg_stat_activity
where datname = current_database() and backend_type = 'client backend'
  and application_name = $1 and xact_start is not null;

-- name: prune
-- Delete a batch of events older than the retention, across workspaces (their deliveries and
-- attempts cascade).
delete from events e
using (select workspace_id, id from events
       where created_at < clock_timestamp() - make_interval(days => $1)
         and fanned_out_at is not null
       limit $2) as old
where e.workspace_id = old.workspace_id and e.id = old.id;

-- name: insert_many
-- Append events to the outbox, in array order: created_at is the statement's start plus a
-- microsecond per element (still before the commit: writing a row takes longer than that, which
-- the feed's horizon relies on). Those that land on a taken microsecond insert nothing (the
-- caller tries them again).
insert into events (id, workspace_id, livemode, display_id, type, object_id, data, created_at)
select v.id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'event')::regclass), v.type,
       v.object_id, v.data, base.ts + (v.position - 1) * interval '1 microsecond'
from unnest(:id::text[], :type::text[], :object_id::text[], :data::json[])
     with ordinality as v(id, type, object_id, data, position)
cross join (select clock_timestamp() as ts) as base
order by v.position
on conflict (workspace_id, livemode, created_at) do nothing
returning id;
