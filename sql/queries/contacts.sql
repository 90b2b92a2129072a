-- name: select
-- Contacts as served, in the order of the Contact struct; the last column is the list cursor.
select 'contact' as object, t.id, t.display_id, t.customer_id as customer, t.email, t.name,
       t.title, t.phone, t.is_primary, t.external_id, t.metadata, t.livemode,
       api_timestamp(t.created_at) as created_at, api_timestamp(t.updated_at) as updated_at,
       api_cursor(t.created_at) as cursor
from contacts t

-- name: insert
-- A new contact; a created_at taken in the same microsecond inserts nothing (and is tried
-- again), any other unique clash (email, external_id) raises.
insert into contacts (id, workspace_id, livemode, display_id, customer_id, email, name, title,
                      phone, is_primary, external_id, metadata, created_at, updated_at)
select :id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'contact')::regclass), :customer,
       :email, :name, :title, :phone, :is_primary, :external_id, :metadata, now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict (workspace_id, livemode, created_at) do nothing

-- name: find_by_external_id
-- The live contact holding an external_id.
select id from contacts
where workspace_id = $1 and livemode = $2 and external_id = $3 and deleted_at is null;

-- name: find_by_email
-- The live contact of a customer with this email, in any case ($3 customer, $4 email).
select id from contacts
where workspace_id = $1 and livemode = $2 and customer_id = $3 and email_normalized = lower($4)
  and deleted_at is null;

-- name: demote_primary
-- Clear the customer's primary contact (other than $2); returns the contacts it changed.
update contacts set is_primary = false, updated_at = clock_timestamp()
where customer_id = $1 and is_primary and deleted_at is null and id <> $2
returning id;
