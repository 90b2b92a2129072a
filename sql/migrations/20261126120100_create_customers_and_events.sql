-- migrate:up
create table customers (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    display_id bigint not null,
    name text not null,
    domain text,
    lifecycle_stage text not null default 'onboarding',
    owner_email text,
    external_id text,
    metadata jsonb not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    deleted_at timestamptz,
    constraint customers_lifecycle_stage_check
        check (lifecycle_stage in ('onboarding', 'active', 'at_risk', 'churned')),
    constraint customers_display_id_key unique (workspace_id, livemode, display_id),
    -- the list cursor is created_at, so it must be unique within a list's scope
    constraint customers_created_at_key unique (workspace_id, livemode, created_at)
);
create unique index customers_external_id_key on customers (workspace_id, livemode, external_id)
    where deleted_at is null and external_id is not null;
create index customers_domain_idx on customers (workspace_id, livemode, domain, created_at)
    where deleted_at is null;
create index customers_lifecycle_stage_idx
    on customers (workspace_id, livemode, lifecycle_stage, created_at) where deleted_at is null;
create index customers_owner_email_idx on customers (workspace_id, livemode, owner_email, created_at)
    where deleted_at is null;

-- the outbox: one row per changed object, written in the writing transaction
create table events (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    display_id bigint not null,
    type text not null,
    object_id text not null,
    -- {"object": ..., "previous_attributes": ...} exactly as served: json, not jsonb, keeps the
    -- bytes (key order, spacing) that the feed and the webhook signatures carry
    data json not null,
    created_at timestamptz not null,
    constraint events_display_id_key unique (workspace_id, livemode, display_id),
    constraint events_created_at_key unique (workspace_id, livemode, created_at)
);
create index events_type_idx on events (workspace_id, livemode, type, created_at);
create index events_created_at_idx on events (created_at);

-- migrate:down
drop table events;
drop table customers;
