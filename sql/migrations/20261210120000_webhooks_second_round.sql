-- migrate:up
-- Secret rotation: the previous secret keeps signing beside the new one until it expires.
alter table webhook_endpoints add column previous_secret text;
alter table webhook_endpoints add column previous_secret_expires_at timestamptz;
-- Since when every attempt to the endpoint has failed (null: its last attempt succeeded);
-- the worker disables an endpoint that has been failing for PIVOTAL_WEBHOOK_DISABLE_AFTER.
alter table webhook_endpoints add column failing_since timestamptz;

-- Attempts made before the current retry schedule began: a recovered delivery starts the
-- schedule again, while attempt_count keeps counting every attempt.
alter table webhook_deliveries add column retry_base integer not null default 0;

-- Deliveries in flight (leased), counted per endpoint to cap each endpoint's concurrency;
-- settled rows clear their lease, so this index holds only what is in flight.
create index webhook_deliveries_leased_idx on webhook_deliveries (endpoint_id)
    where lease_until is not null;
-- recover: an endpoint's deliveries that ended failed, by when they ended
create index webhook_deliveries_failed_idx on webhook_deliveries (endpoint_id, updated_at)
    where status = 'failed';

-- migrate:down
drop index webhook_deliveries_failed_idx;
drop index webhook_deliveries_leased_idx;
alter table webhook_deliveries drop column retry_base;
alter table webhook_endpoints drop column failing_since;
alter table webhook_endpoints drop column previous_secret_expires_at;
alter table webhook_endpoints drop column previous_secret;
