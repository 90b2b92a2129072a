-- name: try_lock
-- Claim a key for this transaction; false while another request with the key is running.
select pg_try_advisory_xact_lock(hashtextextended($1::text || ':' || $2::boolean || ':' || $3::text, 0));

-- name: find
-- The stored response of a key used within the last 24 hours.
select method, path, fingerprint, status, response from idempotency_keys
where workspace_id = $1 and livemode = $2 and key = $3
  and created_at > clock_timestamp() - interval '24 hours';

-- name: save
-- Store the first response of a key, replacing an expired one.
insert into idempotency_keys (workspace_id, livemode, key, method, path, fingerprint, status,
                              response)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (workspace_id, livemode, key) do update
set method = excluded.method, path = excluded.path, fingerprint = excluded.fingerprint,
    status = excluded.status, response = excluded.response, created_at = clock_timestamp();

-- name: prune
-- Delete a batch of stored idempotent responses past their 24 hours, across workspaces.
delete from idempotency_keys k
using (select workspace_id, livemode, key from idempotency_keys
       where created_at < clock_timestamp() - interval '24 hours' limit $1) as old
where k.workspace_id = old.workspace_id and k.livemode = old.livemode and k.key = old.key;
