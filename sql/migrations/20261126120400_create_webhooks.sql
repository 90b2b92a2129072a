-- migrate:up
create table webhook_endpoints (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    display_id bigint not null,
    url text not null,
    enabled_events text[] not null,
    description text,
    status text not null default 'enabled',
    -- whsec_ + base64 of 32 random bytes; returned only by the create call
    secret text not null,
    metadata jsonb not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    deleted_at timestamptz,
    constraint webhook_endpoints_status_check check (status in ('enabled', 'disabled')),
    constraint webhook_endpoints_display_id_key unique (workspace_id, livemode, display_id),
    constraint webhook_endpoints_created_at_key unique (workspace_id, livemode, created_at)
);
create index webhook_endpoints_enabled_idx on webhook_endpoints (workspace_id, livemode)
    where status = 'enabled' and deleted_at is null;

-- events not yet fanned out to their endpoints: the relay claims these by status
alter table events add column fanned_out_at timestamptz;
create index events_pending_fan_out_idx on events (created_at) where fanned_out_at is null;

-- what is still owed: one row per (event, endpoint), plus fresh rows for manual redeliveries
create table webhook_deliveries (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    event_id text not null references events (id) on delete cascade,
    endpoint_id text not null references webhook_endpoints (id) on delete cascade,
    redelivery boolean not null default false,
    status text not null default 'pending',
    attempt_count integer not null default 0,
    next_attempt_at timestamptz not null default clock_timestamp(),
    -- a worker owns the delivery until its lease ends; a crashed worker's lease just expires
    lease_until timestamptz,
    created_at timestamptz not null default clock_timestamp(),
    updated_at timestamptz not null default clock_timestamp(),
    constraint webhook_deliveries_status_check
        check (status in ('pending', 'succeeded', 'failed')),
    constraint webhook_deliveries_created_at_key unique (endpoint_id, created_at)
);
create unique index webhook_deliveries_once_key on webhook_deliveries (event_id, endpoint_id)
    where not redelivery;
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at)
    where status = 'pending';
create index webhook_deliveries_event_idx on webhook_deliveries (event_id);

create table webhook_attempts (
    id bigint generated always as identity primary key,
    delivery_id text not null references webhook_deliveries (id) on delete cascade,
    attempted_at timestamptz not null default clock_timestamp(),
    status_code integer,
    latency_ms integer not null,
    error text,
    -- the first KiB of what the receiver answered
    response_body text
);
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, attempted_at);

-- migrate:down
drop table webhook_attempts;
drop table webhook_deliveries;
drop index events_pending_fan_out_idx;
alter table events drop column fanned_out_at;
drop table webhook_endpoints;
