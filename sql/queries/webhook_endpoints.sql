-- name: select
-- Webhook endpoints as served (never the secret); the last column is the list cursor.
select 'webhook_endpoint' as object, t.id, t.display_id, t.url, t.enabled_events,
       t.description, t.status, t.metadata, t.livemode,
       api_timestamp(t.created_at) as created_at, api_timestamp(t.updated_at) as updated_at,
       api_cursor(t.created_at) as cursor
from webhook_endpoints t

-- name: insert
-- A new webhook endpoint with its signing secret.
insert into webhook_endpoints (id, workspace_id, livemode, display_id, url, enabled_events,
                               description, status, metadata, secret, created_at, updated_at)
select $1, $2, $3, nextval(display_id_sequence($2, $3, 'webhook_endpoint')::regclass), $4, $5,
       $6, $7, $8, $9, now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict do nothing
