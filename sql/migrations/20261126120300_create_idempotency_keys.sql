-- migrate:up
-- the stored first response of each Idempotency-Key, kept for 24 hours
create table idempotency_keys (
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    key text not null,
    method text not null,
    path text not null,
    -- sha256 over method, path and body: a repeat must send the same request
    fingerprint bytea not null,
    status integer not null,
    response bytea not null,
    created_at timestamptz not null default clock_timestamp(),
    primary key (workspace_id, livemode, key)
);
create index idempotency_keys_created_at_idx on idempotency_keys (created_at);

-- migrate:down
drop table idempotency_keys;
