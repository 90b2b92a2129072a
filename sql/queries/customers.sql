-- name: select
-- Customers as served, in the order of the Customer struct; the last column is the list cursor.
select 'customer' as object, t.id, t.display_id, t.name, t.domain, t.lifecycle_stage,
       t.owner_email,
       (select p.id from contacts p
        where p.workspace_id = t.workspace_id and p.customer_id = t.id and p.is_primary and p.deleted_at is null) as primary_contact,
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

-- name: insert_many
-- New customers, one per array element, in order; elements whose created_at lands on a taken
-- microsecond insert nothing (the caller tries them again), any other unique clash raises.
-- Their created_at values are one statement time plus a microsecond per element.
insert into customers (id, workspace_id, livemode, display_id, name, domain, lifecycle_stage,
                       owner_email, external_id, metadata, created_at, updated_at)
select v.id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'customer')::regclass), v.name,
       v.domain, v.lifecycle_stage, v.owner_email, v.external_id, v.metadata, now.ts, now.ts
from unnest(:id::text[], :name::text[], :domain::text[], :lifecycle_stage::text[],
            :owner_email::text[], :external_id::text[], :metadata::jsonb[])
     with ordinality as v(id, name, domain, lifecycle_stage, owner_email, external_id,
                          metadata, position)
cross join (select clock_timestamp() as ts) as base
cross join lateral (select base.ts + (v.position - 1) * interval '1 microsecond' as ts) as now
order by v.position
on conflict (workspace_id, livemode, created_at) do nothing

-- name: update_many
-- Customers (locked by the caller) set to their new values; answers each new updated_at.
update customers t
set name = v.name, domain = v.domain, lifecycle_stage = v.lifecycle_stage,
    owner_email = v.owner_email, external_id = v.external_id, metadata = v.metadata,
    updated_at = clock_timestamp()
from unnest(:id::text[], :name::text[], :domain::text[], :lifecycle_stage::text[],
            :owner_email::text[], :external_id::text[], :metadata::jsonb[])
     as v(id, name, domain, lifecycle_stage, owner_email, external_id, metadata)
where t.workspace_id = :workspace_id and t.id = v.id
returning t.id, api_timestamp(t.updated_at) as updated_at;

-- name: find_many
-- Live customers named by id, display_id or external_id, locked against a concurrent delete
-- while objects that belong to them are written. One index lookup per name: a lateral join,
-- not `= any(...)`, which the planner may turn into a scan of the whole workspace while its
-- statistics are behind (a fresh backfill).
select t.id, t.display_id, t.external_id
from unnest(:ids::text[]) as n(id)
cross join lateral (select c.id, c.display_id, c.external_id from customers c
                    where c.workspace_id = :workspace_id and c.id = n.id
                      and c.livemode = :livemode and c.deleted_at is null
                    for share) as t
union all
select t.id, t.display_id, t.external_id
from unnest(:display_ids::bigint[]) as n(display_id)
cross join lateral (select c.id, c.display_id, c.external_id from customers c
                    where c.workspace_id = :workspace_id and c.livemode = :livemode
                      and c.display_id = n.display_id and c.deleted_at is null
                    for share) as t
union all
select t.id, t.display_id, t.external_id
from unnest(:external_ids::text[]) as n(external_id)
cross join lateral (select c.id, c.display_id, c.external_id from customers c
                    where c.workspace_id = :workspace_id and c.livemode = :livemode
                      and c.external_id = n.external_id and c.deleted_at is null
                    for share) as t;
