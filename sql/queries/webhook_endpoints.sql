-- name: select
-- Webhook endpoints as served (never the secret); the last column is the list cursor.
select 'webhook_endpoint' as object, t.id, t.display_id, t.url, t.enabled_events,
       t.description, t.status, t.metadata, t.livemode,
       api_timestamp(t.created_at) as created_at, api_timestamp(t.updated_at) as updated_at,
       api_cursor(t.created_at) as cursor
from webhook_endpoints t

-- name: insert
-- A new webhook endpoint with its signing secret; a created_at taken in the same microsecond
-- inserts nothing (and is tried again).
insert into webhook_endpoints (id, workspace_id, livemode, display_id, url, enabled_events,
                               description, status, metadata, secret, created_at, updated_at)
select :id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'webhook_endpoint')::regclass),
       :url, :enabled_events, :description, :status, :metadata, :secret, now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict (workspace_id, livemode, created_at) do nothing

-- name: rotate_secret
-- A new signing secret; the current one keeps signing beside it for $5 seconds (an older
-- previous secret stops at once).
update webhook_endpoints
set previous_secret = secret,
    previous_secret_expires_at = clock_timestamp() + make_interval(secs => $5),
    secret = $4, updated_at = clock_timestamp()
where workspace_id = $1 and livemode = $2 and id = $3 and deleted_at is null;
