-- name: insert_workspace
-- Create a workspace; a taken name raises workspaces_name_key.
insert into workspaces (id, name) values ($1, $2)
returning 'workspace' as object, id, name, api_timestamp(created_at) as created_at;

-- name: create_sequences
-- The display_id sequences of a new workspace, one per mode and object type.
select create_display_id_sequences($1, $2::text[]);

-- name: find_workspace
-- A workspace by its id or its name.
select 'workspace' as object, id, name, api_timestamp(created_at) as created_at
from workspaces where id = $1 or name = $1
order by (id = $1) desc
limit 1;

-- name: insert_key
-- Store a new API key by its hash.
insert into api_keys (id, workspace_id, livemode, key_hash, last4) values ($1, $2, $3, $4, $5)
returning id, workspace_id, livemode, api_timestamp(created_at) as created_at;

-- name: revoke_key
-- Revoke a key by id; revoking twice keeps the first revocation time.
update api_keys set revoked_at = coalesce(revoked_at, clock_timestamp())
where id = $1
returning id, workspace_id, livemode, api_timestamp(revoked_at) as revoked_at;

-- name: find_live_key
-- The workspace and mode of an unrevoked key, by the key's hash.
select id, workspace_id, livemode from api_keys where key_hash = $1 and revoked_at is null;

-- name: find_key_by_last4
-- Unrevoked keys of a workspace and mode (to reuse the development key).
select id, last4 from api_keys
where workspace_id = $1 and livemode = $2 and revoked_at is null
order by created_at;
