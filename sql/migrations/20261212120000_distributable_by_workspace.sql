-- migrate:up
-- The schema distributes by workspace (the Citus multi-tenant model, docs/SCALING.md): every
-- table but workspaces carries workspace_id, and every primary key, unique constraint and
-- foreign key includes it, so each workspace's rows, and every key that checks them, live on
-- one node. tests/test_distributable.py holds the rule and its one exemption.

-- Attempts carried only their delivery's id. The column is added NOT NULL in one statement
-- (PostgreSQL 18 names a NOT NULL constraint after its column, and the committed schema must
-- dump alike from 15 and 18), filled from the deliveries, then loses its placeholder default.
alter table webhook_attempts add column workspace_id text not null default '';
update webhook_attempts a set workspace_id = d.workspace_id
from webhook_deliveries d where d.id = a.delivery_id;
alter table webhook_attempts alter column workspace_id drop default;

-- Foreign keys name the keys they point at: drop them before those keys change.
alter table contacts drop constraint contacts_customer_id_fkey;
alter table onboardings drop constraint onboardings_customer_id_fkey;
alter table webhook_attempts drop constraint webhook_attempts_delivery_id_fkey;
alter table webhook_deliveries drop constraint webhook_deliveries_endpoint_id_fkey;
alter table webhook_deliveries drop constraint webhook_deliveries_event_id_fkey;

alter table customers drop constraint customers_pkey,
    add constraint customers_pkey primary key (workspace_id, id);
alter table contacts drop constraint contacts_pkey,
    add constraint contacts_pkey primary key (workspace_id, id);
alter table onboardings drop constraint onboardings_pkey,
    add constraint onboardings_pkey primary key (workspace_id, id);
alter table events drop constraint events_pkey,
    add constraint events_pkey primary key (workspace_id, id);
alter table webhook_endpoints drop constraint webhook_endpoints_pkey,
    add constraint webhook_endpoints_pkey primary key (workspace_id, id);
alter table webhook_deliveries drop constraint webhook_deliveries_pkey,
    add constraint webhook_deliveries_pkey primary key (workspace_id, id);
alter table webhook_attempts drop constraint webhook_attempts_pkey,
    add constraint webhook_attempts_pkey primary key (workspace_id, id);
-- api_keys is a reference table (copied to every node, like workspaces): authentication finds a
-- key by its hash before it knows the workspace, and `pivotal keys revoke` by its id alone. Its
-- key leads with id so that revocation stays an index lookup; key_hash stays unique on its own
-- (one key per secret, across all workspaces), the rule's one exemption.
alter table api_keys drop constraint api_keys_pkey,
    add constraint api_keys_pkey primary key (id, workspace_id);

drop index contacts_email_key;
create unique index contacts_email_key on contacts (workspace_id, customer_id, email_normalized)
    where deleted_at is null;
drop index contacts_primary_key;
create unique index contacts_primary_key on contacts (workspace_id, customer_id)
    where is_primary and deleted_at is null;
drop index webhook_deliveries_once_key;
create unique index webhook_deliveries_once_key
    on webhook_deliveries (workspace_id, event_id, endpoint_id) where not redelivery;
alter table webhook_deliveries drop constraint webhook_deliveries_created_at_key,
    add constraint webhook_deliveries_created_at_key unique (workspace_id, endpoint_id, created_at);

alter table contacts add constraint contacts_customer_id_fkey
    foreign key (workspace_id, customer_id) references customers (workspace_id, id);
alter table onboardings add constraint onboardings_customer_id_fkey
    foreign key (workspace_id, customer_id) references customers (workspace_id, id);
alter table webhook_attempts add constraint webhook_attempts_delivery_id_fkey
    foreign key (workspace_id, delivery_id) references webhook_deliveries (workspace_id, id)
    on delete cascade;
alter table webhook_deliveries add constraint webhook_deliveries_endpoint_id_fkey
    foreign key (workspace_id, endpoint_id) references webhook_endpoints (workspace_id, id)
    on delete cascade;
alter table webhook_deliveries add constraint webhook_deliveries_event_id_fkey
    foreign key (workspace_id, event_id) references events (workspace_id, id) on delete cascade;

-- The indexes the queries reach by endpoint, delivery or event now lead with the workspace,
-- as the queries do (the cascades from events and deliveries use the last two).
drop index webhook_deliveries_endpoint_due_idx;
create index webhook_deliveries_endpoint_due_idx
    on webhook_deliveries (workspace_id, endpoint_id, next_attempt_at) where status = 'pending';
drop index webhook_deliveries_failed_idx;
create index webhook_deliveries_failed_idx
    on webhook_deliveries (workspace_id, endpoint_id, updated_at) where status = 'failed';
drop index webhook_deliveries_leased_idx;
create index webhook_deliveries_leased_idx
    on webhook_deliveries (workspace_id, endpoint_id) where lease_until is not null;
drop index webhook_deliveries_event_idx;
create index webhook_deliveries_event_idx on webhook_deliveries (workspace_id, event_id);
drop index webhook_attempts_delivery_idx;
create index webhook_attempts_delivery_idx
    on webhook_attempts (workspace_id, delivery_id, attempted_at);

-- migrate:down
drop index webhook_attempts_delivery_idx;
create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, attempted_at);
drop index webhook_deliveries_event_idx;
create index webhook_deliveries_event_idx on webhook_deliveries (event_id);
drop index webhook_deliveries_leased_idx;
create index webhook_deliveries_leased_idx on webhook_deliveries (endpoint_id)
    where lease_until is not null;
drop index webhook_deliveries_failed_idx;
create index webhook_deliveries_failed_idx on webhook_deliveries (endpoint_id, updated_at)
    where status = 'failed';
drop index webhook_deliveries_endpoint_due_idx;
create index webhook_deliveries_endpoint_due_idx on webhook_deliveries (endpoint_id, next_attempt_at)
    where status = 'pending';

alter table contacts drop constraint contacts_customer_id_fkey;
alter table onboardings drop constraint onboardings_customer_id_fkey;
alter table webhook_attempts drop constraint webhook_attempts_delivery_id_fkey;
alter table webhook_deliveries drop constraint webhook_deliveries_endpoint_id_fkey;
alter table webhook_deliveries drop constraint webhook_deliveries_event_id_fkey;

alter table webhook_deliveries drop constraint webhook_deliveries_created_at_key,
    add constraint webhook_deliveries_created_at_key unique (endpoint_id, created_at);
drop index webhook_deliveries_once_key;
create unique index webhook_deliveries_once_key on webhook_deliveries (event_id, endpoint_id)
    where not redelivery;
drop index contacts_primary_key;
create unique index contacts_primary_key on contacts (customer_id)
    where is_primary and deleted_at is null;
drop index contacts_email_key;
create unique index contacts_email_key on contacts (customer_id, email_normalized)
    where deleted_at is null;

alter table api_keys drop constraint api_keys_pkey, add constraint api_keys_pkey primary key (id);
alter table webhook_attempts drop constraint webhook_attempts_pkey,
    add constraint webhook_attempts_pkey primary key (id);
alter table webhook_deliveries drop constraint webhook_deliveries_pkey,
    add constraint webhook_deliveries_pkey primary key (id);
alter table webhook_endpoints drop constraint webhook_endpoints_pkey,
    add constraint webhook_endpoints_pkey primary key (id);
alter table events drop constraint events_pkey, add constraint events_pkey primary key (id);
alter table onboardings drop constraint onboardings_pkey,
    add constraint onboardings_pkey primary key (id);
alter table contacts drop constraint contacts_pkey, add constraint contacts_pkey primary key (id);
alter table customers drop constraint customers_pkey,
    add constraint customers_pkey primary key (id);

alter table contacts add constraint contacts_customer_id_fkey
    foreign key (customer_id) references customers (id);
alter table onboardings add constraint onboardings_customer_id_fkey
    foreign key (customer_id) references customers (id);
alter table webhook_attempts add constraint webhook_attempts_delivery_id_fkey
    foreign key (delivery_id) references webhook_deliveries (id) on delete cascade;
alter table webhook_deliveries add constraint webhook_deliveries_endpoint_id_fkey
    foreign key (endpoint_id) references webhook_endpoints (id) on delete cascade;
alter table webhook_deliveries add constraint webhook_deliveries_event_id_fkey
    foreign key (event_id) references events (id) on delete cascade;

alter table webhook_attempts drop column workspace_id;
