-- name: select
-- Customers as served, in the order of the Customer struct; the last column is the list cursor.
select 'customer' as object, t.id, t.display_id, t.name, t.domain, t.lifecycle_stage,
       t.owner_email,
       (select p.id from contacts p
        where p.customer_id = t.id and p.is_primary and p.deleted_at is null) as primary_contact,
       t.external_id, t.metadata, t.livemode, api_timestamp(t.created_at) as created_at,
       api_timestamp(t.updated_at) as updated_at, api_cursor(t.created_at) as cursor
from customers t

-- name: insert
-- A new customer; a created_at taken in the same microsecond inserts nothing (and is tried
-- again), any other unique clash raises. The shared code adds RETURNING and reads the row
-- back as served.
insert into customers (id, workspace_id, livemode, display_id, name, domain, lifecycle_stage,
                       owner_email, external_id, metadata, created_at, updated_at)
select :id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'customer')::regclass), :name,
       :domain, :lifecycle_stage, :owner_email, :external_id, :metadata, now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict (workspace_id, livemode, created_at) do nothing

-- name: find_by_external_id
-- The live customer holding an external_id.
select id from customers
where workspace_id = $1 and livemode = $2 and external_id = $3 and deleted_at is null;
