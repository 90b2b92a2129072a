-- name: claim_events
-- Events not yet fanned out, oldest first; concurrent relays skip each other's claims.
select id, created_at from events
where fanned_out_at is null
order by created_at
limit $1
for update skip locked;

-- name: matching_endpoints
-- For each event, the enabled endpoints of its workspace and mode that want it; with $2, only
-- those that existed when it happened (fan-out), else every one (a manual redelivery). Types
-- in $3 (webhook_endpoint.test) go only to the endpoint they are about.
select e.id as event_id, w.id as endpoint_id, e.workspace_id, e.livemode
from events e
join webhook_endpoints w on w.workspace_id = e.workspace_id and w.livemode = e.livemode
where e.id = any($1::text[])
  and w.status = 'enabled' and w.deleted_at is null
  and (not $2 or w.created_at <= e.created_at)
  and ('*' = any(w.enabled_events) or e.type = any(w.enabled_events)
       or split_part(e.type, '.', 1) || '.*' = any(w.enabled_events))
  and (e.type <> all($3::text[]) or w.id = e.object_id)
order by e.created_at;

-- name: insert_deliveries
-- Deliveries owed; a created_at that clashes on its endpoint inserts nothing and is retried.
insert into webhook_deliveries (id, workspace_id, livemode, event_id, endpoint_id, redelivery,
                                created_at)
select id, workspace_id, livemode, event_id, endpoint_id, $6, clock_timestamp()
from unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])
     as d(id, workspace_id, livemode, event_id, endpoint_id)
on conflict (endpoint_id, created_at) do nothing
returning id;

-- name: mark_fanned_out
-- The claimed events have their deliveries recorded.
update events set fanned_out_at = clock_timestamp() where id = any($1::text[]);

-- name: due
-- How many deliveries are due now with no live lease, to endpoints that take deliveries (or
-- deleted ones, whose deliveries are abandoned): the work the sweep queues jobs for.
select count(*) from webhook_deliveries d
join webhook_endpoints w on w.id = d.endpoint_id
where d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
  and (d.lease_until is null or d.lease_until < clock_timestamp())
  and (w.status = 'enabled' or w.deleted_at is not null);

-- name: claimable_endpoints
-- Lock, for the rest of the transaction, up to $1 endpoints with a due delivery and room for
-- another attempt (fewer than $2 in flight), oldest due first; endpoints another worker is
-- claiming for are skipped (the lock leaves the key-share locks of deliveries being inserted
-- for the endpoint alone, so fan-out never hides it). While its endpoint is locked, the in-flight count a claim reads
-- (in its next statement) includes every earlier claim's leases. A disabled endpoint's
-- deliveries wait (still owed when it is enabled again); a deleted one's are claimed to be
-- abandoned.
select w.id
from webhook_endpoints w
cross join lateral (
    select d.next_attempt_at from webhook_deliveries d
    where d.endpoint_id = w.id and d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
      and (d.lease_until is null or d.lease_until < clock_timestamp())
    order by d.next_attempt_at
    limit 1
) oldest
where (w.status = 'enabled' or w.deleted_at is not null)
  and (select count(*) from webhook_deliveries f
       where f.endpoint_id = w.id and f.lease_until > clock_timestamp()
         and f.status = 'pending') < $2
order by oldest.next_attempt_at
limit $1
for no key update of w skip locked;

-- name: claim
-- Take up to $1 due deliveries of the endpoints in $4 (locked by claimable_endpoints) for one
-- attempt each, with a lease of $2 seconds, keeping at most $3 in flight per endpoint. Each
-- endpoint's next delivery comes before any endpoint's one after it, so a slow endpoint's
-- backlog never holds up the others; each endpoint reads only the rows it may take. Each
-- comes with its endpoint, its live secrets and its event as served.
with endpoint as (
    select w.id, (select count(*) from webhook_deliveries f
                  where f.endpoint_id = w.id and f.lease_until > clock_timestamp()
                    and f.status = 'pending') as busy
    from webhook_endpoints w
    where w.id = any($4::text[])
), due as (
    select c.id, c.next_attempt_at,
           e.busy + row_number() over (partition by e.id order by c.next_attempt_at) as place
    from endpoint e
    cross join lateral (
        select d.id, d.next_attempt_at from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending'
          and d.next_attempt_at <= clock_timestamp()
          and (d.lease_until is null or d.lease_until < clock_timestamp())
        order by d.next_attempt_at
        limit greatest($3 - e.busy, 0)
    ) c
), chosen as (
    select d.ctid as row from webhook_deliveries d
    where d.id in (select id from due order by place, next_attempt_at limit $1)
      and d.status = 'pending' and (d.lease_until is null or d.lease_until < clock_timestamp())
    for update skip locked
)
update webhook_deliveries d
set lease_until = clock_timestamp() + make_interval(secs => $2), updated_at = clock_timestamp()
from chosen, events e, webhook_endpoints w
where d.ctid = chosen.row and e.id = d.event_id and w.id = d.endpoint_id
returning d.id, d.attempt_count, d.retry_base, d.endpoint_id, w.url,
          array_remove(array[w.secret, case when w.previous_secret_expires_at > clock_timestamp()
                                            then w.previous_secret end], null) as secrets,
          w.status = 'enabled' and w.deleted_at is null as endpoint_enabled,
          'event' as object, e.id as event_id, e.display_id, e.type, e.livemode,
          api_timestamp(e.created_at) as created_at, e.data::text as data;

-- name: settle_attempts
-- Log a batch of attempts and settle each delivery: its new status, and for a retry the
-- seconds until the next try. Then each endpoint's health ($8 endpoint, $9 succeeded, one
-- pair per attempt): an endpoint with a success is healthy again; one with only failures has
-- been failing since its first failed attempt, and is disabled once that is $10 seconds ago.
-- Only endpoints whose health changes are written (and locked, in id order), so a healthy
-- endpoint's attempts never wait for, or hold up, a claim for it. Answers those written, with
-- whether each is disabled now.
with outcome as (
    select * from unnest($1::text[], $2::integer[], $3::integer[], $4::text[], $5::text[],
                         $6::text[], $7::float8[])
        as o(delivery_id, status_code, latency_ms, error, response_body, status, delay)
), attempt as (
    insert into webhook_attempts (delivery_id, status_code, latency_ms, error, response_body)
    select delivery_id, status_code, latency_ms, error, response_body from outcome
), settled as (
    update webhook_deliveries d
    set status = o.status, attempt_count = d.attempt_count + 1, lease_until = null,
        next_attempt_at = case when o.status = 'pending'
                               then clock_timestamp() + make_interval(secs => o.delay)
                               else d.next_attempt_at end,
        updated_at = clock_timestamp()
    from outcome o
    where d.id = o.delivery_id
), health as (
    select endpoint_id, bool_or(succeeded) as ok
    from unnest($8::text[], $9::boolean[]) as o(endpoint_id, succeeded)
    group by endpoint_id
), decided as (
    select w.id, h.ok,
           not h.ok and w.status = 'enabled'
             and w.failing_since <= clock_timestamp() - make_interval(secs => $10) as disable
    from webhook_endpoints w
    join health h on h.endpoint_id = w.id
    where w.deleted_at is null
      and (h.ok <> (w.failing_since is null)
           or (not h.ok and w.status = 'enabled'
               and w.failing_since <= clock_timestamp() - make_interval(secs => $10)))
    order by w.id
    for update of w
)
update webhook_endpoints w
set failing_since = case when d.ok then null else coalesce(w.failing_since, clock_timestamp()) end,
    status = case when d.disable then 'disabled' else w.status end,
    updated_at = case when d.disable then clock_timestamp() else w.updated_at end
from decided d
where w.id = d.id
returning w.id, w.workspace_id, w.livemode, d.disable;

-- name: abandon
-- Settle deliveries whose endpoint was disabled or deleted meanwhile, without an attempt.
update webhook_deliveries set status = 'failed', lease_until = null, updated_at = clock_timestamp()
where id = any($1::text[]);

-- name: disable_endpoints
-- Receivers that answered 410 Gone want no more deliveries; answers those disabled now.
update webhook_endpoints set status = 'disabled', updated_at = clock_timestamp()
where id = any($1::text[]) and status = 'enabled' and deleted_at is null
returning id, workspace_id, livemode;

-- name: select
-- Deliveries as served (attempts are added separately); the last column is the list cursor.
select 'webhook_delivery' as object, t.id, t.event_id as event, e.type as event_type,
       t.endpoint_id as webhook_endpoint, t.redelivery, t.status, t.attempt_count,
       case when t.status = 'pending' then api_timestamp(t.next_attempt_at) end as next_attempt_at,
       t.livemode, api_timestamp(t.created_at) as created_at,
       api_timestamp(t.updated_at) as updated_at, api_cursor(t.created_at) as cursor
from webhook_deliveries t
join events e on e.id = t.event_id

-- name: attempts
-- The attempts of some deliveries, oldest first.
select delivery_id, 'webhook_attempt' as object, api_timestamp(attempted_at) as attempted_at,
       status_code, latency_ms, error, response_body
from webhook_attempts
where delivery_id = any($1::text[])
order by attempted_at, id;

-- name: recover
-- An endpoint's deliveries that ended failed since $3, owed again: due now, with the retry
-- schedule started afresh (attempt_count keeps counting every attempt).
update webhook_deliveries
set status = 'pending', next_attempt_at = clock_timestamp(), retry_base = attempt_count,
    lease_until = null, updated_at = clock_timestamp()
where workspace_id = $1 and endpoint_id = $2 and status = 'failed' and updated_at >= $3
returning id;

-- name: backlog
-- The worker's metrics: events not yet fanned out, the seconds since the oldest of them was
-- written (0 when none), and deliveries pending. Each reads a partial index and counts at
-- most $1 rows, so a scrape stays cheap however far behind the worker is.
select
  (select count(*) from (select from events where fanned_out_at is null limit $1) e)
    as outbox_events,
  coalesce(extract(epoch from clock_timestamp()
    - (select min(created_at) from events where fanned_out_at is null)), 0)::float8
    as outbox_oldest_seconds,
  (select count(*) from (select from webhook_deliveries where status = 'pending' limit $1) d)
    as deliveries_pending;
