-- name: claim_events
-- Events not yet fanned out, oldest first, across workspaces; concurrent relays skip each
-- other's claims.
select workspace_id, id, created_at from events
where fanned_out_at is null
order by created_at
limit $1
for update skip locked;

-- name: matching_endpoints
-- For each event ($1 workspaces, $2 ids), the enabled endpoints of its workspace and mode that
-- want it; with $3, only those that existed when it happened (fan-out), else every one (a
-- manual redelivery). Types in $4 (webhook_endpoint.test) go only to the endpoint they are
-- about.
select e.id as event_id, w.id as endpoint_id, e.workspace_id, e.livemode
from unnest($1::text[], $2::text[]) as k(workspace_id, id)
join events e on e.workspace_id = k.workspace_id and e.id = k.id
join webhook_endpoints w on w.workspace_id = e.workspace_id and w.livemode = e.livemode
where w.status = 'enabled' and w.deleted_at is null
  and (not $3 or w.created_at <= e.created_at)
  and ('*' = any(w.enabled_events) or e.type = any(w.enabled_events)
       or split_part(e.type, '.', 1) || '.*' = any(w.enabled_events))
  and (e.type <> all($4::text[]) or w.id = e.object_id)
order by e.created_at;

-- name: insert_deliveries
-- Deliveries owed; a created_at that clashes on its endpoint inserts nothing and is retried.
insert into webhook_deliveries (id, workspace_id, livemode, event_id, endpoint_id, redelivery,
                                created_at)
select id, workspace_id, livemode, event_id, endpoint_id, $6, clock_timestamp()
from unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::text[])
     as d(id, workspace_id, livemode, event_id, endpoint_id)
on conflict (workspace_id, endpoint_id, created_at) do nothing
returning id;

-- name: mark_fanned_out
-- The claimed events ($1 workspaces, $2 ids) have their deliveries recorded.
update events e set fanned_out_at = clock_timestamp()
from unnest($1::text[], $2::text[]) as k(workspace_id, id)
where e.workspace_id = k.workspace_id and e.id = k.id;

-- name: due
-- How many deliveries are due now with no live lease, to endpoints that take deliveries (or
-- deleted ones, whose deliveries are abandoned), across workspaces: the work the sweep queues
-- jobs for.
select count(*) from webhook_deliveries d
join webhook_endpoints w on w.workspace_id = d.workspace_id and w.id = d.endpoint_id
where d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
  and (d.lease_until is null or d.lease_until < clock_timestamp())
  and (w.status = 'enabled' or w.deleted_at is not null);

-- name: claimable_endpoints
-- Lock, for the rest of the transaction, up to $1 endpoints of any workspace with a due
-- delivery and room for another attempt (fewer than $2 in flight), oldest due first;
-- endpoints another worker is claiming for are skipped (the lock leaves the key-share locks of
-- deliveries being inserted for the endpoint alone, so fan-out never hides it). While its
-- endpoint is locked, the in-flight count a claim reads (in its next statement) includes every
-- earlier claim's leases. A disabled endpoint's deliveries wait (still owed when it is enabled
-- again); a deleted one's are claimed to be abandoned.
select w.workspace_id, w.id
from webhook_endpoints w
cross join lateral (
    select d.next_attempt_at from webhook_deliveries d
    where d.workspace_id = w.workspace_id and d.endpoint_id = w.id and d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
      and (d.lease_until is null or d.lease_until < clock_timestamp())
    order by d.next_attempt_at
    limit 1
) oldest
where (w.status = 'enabled' or w.deleted_at is not null)
  and (select count(*) from webhook_deliveries f
       where f.workspace_id = w.workspace_id and f.endpoint_id = w.id
         and f.lease_until > clock_timestamp() and f.status = 'pending') < $2
order by oldest.next_attempt_at
limit $1
for no key update of w skip locked;

-- name: claim
-- Take up to $1 due deliveries of the endpoints in $4 (workspaces) and $5 (ids), locked by
-- claimable_endpoints, for one attempt each, with a lease of $2 seconds, keeping at most $3 in flight per endpoint. Each
-- endpoint's next delivery comes before any endpoint's one after it, so a slow endpoint's
-- backlog never holds up the others; each endpoint reads only the rows it may take. Each
-- comes with its endpoint, its live secrets and its event as served.
with endpoint as (
    select w.workspace_id, w.id,
           (select count(*) from webhook_deliveries f
            where f.workspace_id = w.workspace_id and f.endpoint_id = w.id
              and f.lease_until > clock_timestamp() and f.status = 'pending') as busy
    from unnest($4::text[], $5::text[]) as k(workspace_id, id)
    join webhook_endpoints w on w.workspace_id = k.workspace_id and w.id = k.id
), due as (
    select c.workspace_id, c.id, c.next_attempt_at,
           e.busy + row_number() over (partition by e.workspace_id, e.id
                                       order by c.next_attempt_at) as place
    from endpoint e
    cross join lateral (
        select d.workspace_id, d.id, d.next_attempt_at from webhook_deliveries d
        where d.workspace_id = e.workspace_id and d.endpoint_id = e.id and d.status = 'pending'
          and d.next_attempt_at <= clock_timestamp()
          and (d.lease_until is null or d.lease_until < clock_timestamp())
        order by d.next_attempt_at
        limit greatest($3 - e.busy, 0)
    ) c
), chosen as (
    select d.workspace_id, d.ctid as row from webhook_deliveries d
    join (select workspace_id, id from due order by place, next_attempt_at limit $1) as next
      on d.workspace_id = next.workspace_id and d.id = next.id
    where d.status = 'pending' and (d.lease_until is null or d.lease_until < clock_timestamp())
    for update of d skip locked
)
update webhook_deliveries d
set lease_until = clock_timestamp() + make_interval(secs => $2), updated_at = clock_timestamp()
from chosen, events e, webhook_endpoints w
where d.workspace_id = chosen.workspace_id and d.ctid = chosen.row
  and e.workspace_id = d.workspace_id and e.id = d.event_id
  and w.workspace_id = d.workspace_id and w.id = d.endpoint_id
returning d.workspace_id, d.id, d.attempt_count, d.retry_base, d.endpoint_id, w.url,
          array_remove(array[w.secret, case when w.previous_secret_expires_at > clock_timestamp()
                                            then w.previous_secret end], null) as secrets,
          w.status = 'enabled' and w.deleted_at is null as endpoint_enabled,
          'event' as object, e.id as event_id, e.display_id, e.type, e.livemode,
          api_timestamp(e.created_at) as created_at, e.data::text as data;

-- name: settle_attempts
-- Log a batch of attempts and settle each delivery ($1 workspace, $2 delivery, then what the
-- attempt gave): its new status, and for a retry the seconds until the next try. Then each
-- endpoint's health ($9 workspace, $10 endpoint, $11 succeeded, one triple per attempt): an
-- endpoint with a success is healthy again; one with only failures has been failing since its
-- first failed attempt, and is disabled once that is $12 seconds ago. Only endpoints whose
-- health changes are written (and locked, in key order), so a healthy endpoint's attempts
-- never wait for, or hold up, a claim for it. Answers those written, with whether each is
-- disabled now.
with outcome as (
    select * from unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::text[],
                         $6::text[], $7::text[], $8::float8[])
        as o(workspace_id, delivery_id, status_code, latency_ms, error, response_body, status,
             delay)
), attempt as (
    insert into webhook_attempts (workspace_id, delivery_id, status_code, latency_ms, error,
                                  response_body)
    select workspace_id, delivery_id, status_code, latency_ms, error, response_body from outcome
), settled as (
    update webhook_deliveries d
    set status = o.status, attempt_count = d.attempt_count + 1, lease_until = null,
        next_attempt_at = case when o.status = 'pending'
                               then clock_timestamp() + make_interval(secs => o.delay)
                               else d.next_attempt_at end,
        updated_at = clock_timestamp()
    from outcome o
    where d.workspace_id = o.workspace_id and d.id = o.delivery_id
), health as (
    select workspace_id, endpoint_id, bool_or(succeeded) as ok
    from unnest($9::text[], $10::text[], $11::boolean[]) as o(workspace_id, endpoint_id, succeeded)
    group by workspace_id, endpoint_id
), decided as (
    select w.workspace_id, w.id, h.ok,
           not h.ok and w.status = 'enabled'
             and w.failing_since <= clock_timestamp() - make_interval(secs => $12) as disable
    from webhook_endpoints w
    join health h on h.workspace_id = w.workspace_id and h.endpoint_id = w.id
    where w.deleted_at is null
      and (h.ok <> (w.failing_since is null)
           or (not h.ok and w.status = 'enabled'
               and w.failing_since <= clock_timestamp() - make_interval(secs => $12)))
    order by w.workspace_id, w.id
    for update of w
)
update webhook_endpoints w
set failing_since = case when d.ok then null else coalesce(w.failing_since, clock_timestamp()) end,
    status = case when d.disable then 'disabled' else w.status end,
    updated_at = case when d.disable then clock_timestamp() else w.updated_at end
from decided d
where w.workspace_id = d.workspace_id and w.id = d.id
returning w.id, w.workspace_id, w.livemode, d.disable;

-- name: abandon
-- Settle deliveries ($1 workspaces, $2 ids) whose endpoint was disabled or deleted meanwhile,
-- without an attempt.
update webhook_deliveries d
set status = 'failed', lease_until = null, updated_at = clock_timestamp()
from unnest($1::text[], $2::text[]) as k(workspace_id, id)
where d.workspace_id = k.workspace_id and d.id = k.id;

-- name: disable_endpoints
-- Receivers ($1 workspaces, $2 endpoint ids) that answered 410 Gone want no more deliveries;
-- answers those disabled now.
update webhook_endpoints w set status = 'disabled', updated_at = clock_timestamp()
from unnest($1::text[], $2::text[]) as k(workspace_id, id)
where w.workspace_id = k.workspace_id and w.id = k.id and w.status = 'enabled'
  and w.deleted_at is null
returning w.id, w.workspace_id, w.livemode;

-- name: select
-- Deliveries as served (attempts are added separately); the last column is the list cursor.
select 'webhook_delivery' as object, t.id, t.event_id as event, e.type as event_type,
       t.endpoint_id as webhook_endpoint, t.redelivery, t.status, t.attempt_count,
       case when t.status = 'pending' then api_timestamp(t.next_attempt_at) end as next_attempt_at,
       t.livemode, api_timestamp(t.created_at) as created_at,
       api_timestamp(t.updated_at) as updated_at, api_cursor(t.created_at) as cursor
from webhook_deliveries t
join events e on e.workspace_id = t.workspace_id and e.id = t.event_id

-- name: attempts
-- The attempts of some deliveries of a workspace, oldest first.
select delivery_id, 'webhook_attempt' as object, api_timestamp(attempted_at) as attempted_at,
       status_code, latency_ms, error, response_body
from webhook_attempts
where workspace_id = $1 and delivery_id = any($2::text[])
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
