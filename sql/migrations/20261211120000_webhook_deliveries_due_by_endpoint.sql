-- migrate:up
-- The claim walks each endpoint's pending deliveries in due order and stops at what that
-- endpoint may still take, so it reads a few rows per endpoint, never the whole backlog.
create index webhook_deliveries_endpoint_due_idx on webhook_deliveries (endpoint_id, next_attempt_at)
    where status = 'pending';

-- migrate:down
drop index webhook_deliveries_endpoint_due_idx;
