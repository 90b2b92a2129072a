-- migrate:up
create table contacts (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    display_id bigint not null,
    customer_id text not null references customers (id),
    email text not null,
    -- emails are unique per customer regardless of case, and filtered that way
    email_normalized text generated always as (lower(email)) stored,
    name text,
    title text,
    phone text,
    is_primary boolean not null default false,
    external_id text,
    metadata jsonb not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    deleted_at timestamptz,
    constraint contacts_display_id_key unique (workspace_id, livemode, display_id),
    constraint contacts_created_at_key unique (workspace_id, livemode, created_at)
);
create unique index contacts_external_id_key on contacts (workspace_id, livemode, external_id)
    where deleted_at is null and external_id is not null;
create unique index contacts_email_key on contacts (customer_id, email_normalized)
    where deleted_at is null;
-- at most one primary contact per customer, whatever the concurrency
create unique index contacts_primary_key on contacts (customer_id)
    where is_primary and deleted_at is null;
create index contacts_customer_idx on contacts (workspace_id, livemode, customer_id, created_at)
    where deleted_at is null;
create index contacts_email_idx
    on contacts (workspace_id, livemode, email_normalized, created_at) where deleted_at is null;

create table onboardings (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    display_id bigint not null,
    customer_id text not null references customers (id),
    name text not null,
    status text not null default 'active',
    owner_email text,
    target_date date,
    started_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    external_id text,
    metadata jsonb not null default '{}',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    deleted_at timestamptz,
    constraint onboardings_status_check
        check (status in ('active', 'paused', 'completed', 'cancelled')),
    constraint onboardings_display_id_key unique (workspace_id, livemode, display_id),
    constraint onboardings_created_at_key unique (workspace_id, livemode, created_at)
);
create unique index onboardings_external_id_key
    on onboardings (workspace_id, livemode, external_id)
    where deleted_at is null and external_id is not null;
create index onboardings_customer_idx
    on onboardings (workspace_id, livemode, customer_id, created_at) where deleted_at is null;
-- the dashboard query: status=active, newest first
create index onboardings_status_idx on onboardings (workspace_id, livemode, status, created_at)
    where deleted_at is null;
create index onboardings_owner_email_idx
    on onboardings (workspace_id, livemode, owner_email, created_at) where deleted_at is null;

-- migrate:down
drop table onboardings;
drop table contacts;
