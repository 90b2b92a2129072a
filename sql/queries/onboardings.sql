-- name: select
-- Onboardings as served, in the order of the Onboarding struct; the last column is the cursor.
select 'onboarding' as object, t.id, t.display_id, t.customer_id as customer, t.name, t.status,
       t.owner_email, to_char(t.target_date, 'YYYY-MM-DD') as target_date,
       api_timestamp(t.started_at) as started_at, api_timestamp(t.completed_at) as completed_at,
       api_timestamp(t.cancelled_at) as cancelled_at, t.external_id, t.metadata, t.livemode,
       api_timestamp(t.created_at) as created_at, api_timestamp(t.updated_at) as updated_at,
       api_cursor(t.created_at) as cursor
from onboardings t

-- name: insert
-- A new onboarding; the status timestamps of its initial status are set to its creation time.
-- A created_at taken in the same microsecond inserts nothing (and is tried again).
insert into onboardings (id, workspace_id, livemode, display_id, customer_id, name, status,
                         owner_email, target_date, external_id, metadata, started_at,
                         completed_at, cancelled_at, created_at, updated_at)
select :id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'onboarding')::regclass), :customer,
       :name, :status, :owner_email, :target_date, :external_id, :metadata,
       case when :status = 'active' then now.ts end,
       case when :status = 'completed' then now.ts end,
       case when :status = 'cancelled' then now.ts end,
       now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict (workspace_id, livemode, created_at) do nothing

-- name: find_by_external_id
-- The live onboarding holding an external_id.
select id from onboardings
where workspace_id = $1 and livemode = $2 and external_id = $3 and deleted_at is null;

-- name: insert_many
-- New onboardings, one per array element, in order, with the timestamps of their initial
-- status; elements whose created_at lands on a taken microsecond insert nothing (the caller
-- tries them again), any other unique clash raises. Their created_at values are one statement
-- time plus a microsecond per element.
insert into onboardings (id, workspace_id, livemode, display_id, customer_id, name, status,
                         owner_email, target_date, external_id, metadata, started_at,
                         completed_at, cancelled_at, created_at, updated_at)
select v.id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'onboarding')::regclass),
       v.customer, v.name, v.status, v.owner_email, v.target_date, v.external_id, v.metadata,
       case when v.status = 'active' then now.ts end,
       case when v.status = 'completed' then now.ts end,
       case when v.status = 'cancelled' then now.ts end,
       now.ts, now.ts
from unnest(:id::text[], :customer::text[], :name::text[], :status::text[],
            :owner_email::text[], :target_date::date[], :external_id::text[], :metadata::jsonb[])
     with ordinality as v(id, customer, name, status, owner_email, target_date, external_id,
                          metadata, position)
cross join (select clock_timestamp() as ts) as base
cross join lateral (select base.ts + (v.position - 1) * interval '1 microsecond' as ts) as now
order by v.position
on conflict (workspace_id, livemode, created_at) do nothing

-- name: update_many
-- Onboardings (locked by the caller) set to their new values; a status timestamp changes only
-- where its set_* flag is true. Answers each new updated_at.
update onboardings t
set name = v.name, status = v.status, owner_email = v.owner_email,
    target_date = v.target_date, external_id = v.external_id, metadata = v.metadata,
    started_at = case when v.set_started_at then v.started_at else t.started_at end,
    completed_at = case when v.set_completed_at then v.completed_at else t.completed_at end,
    cancelled_at = case when v.set_cancelled_at then v.cancelled_at else t.cancelled_at end,
    updated_at = clock_timestamp()
from unnest(:id::text[], :name::text[], :status::text[], :owner_email::text[],
            :target_date::date[], :external_id::text[], :metadata::jsonb[],
            :set_started_at::boolean[], :started_at::timestamptz[],
            :set_completed_at::boolean[], :completed_at::timestamptz[],
            :set_cancelled_at::boolean[], :cancelled_at::timestamptz[])
     as v(id, name, status, owner_email, target_date, external_id, metadata, set_started_at,
          started_at, set_completed_at, completed_at, set_cancelled_at, cancelled_at)
where t.workspace_id = :workspace_id and t.id = v.id
returning t.id, api_timestamp(t.updated_at) as updated_at;
