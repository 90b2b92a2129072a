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
