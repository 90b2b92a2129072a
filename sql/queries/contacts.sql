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
insert into contacts (id, workspace_id, livemode, display_id, customer_id, email,
                      email_normalized, name, title, phone, is_primary, external_id, metadata,
                      created_at, updated_at)
select :id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'contact')::regclass), :customer,
       :email, :email_normalized, :name, :title, :phone, :is_primary, :external_id, :metadata,
       now.ts, now.ts
from (select clock_timestamp() as ts) as now
on conflict (workspace_id, livemode, created_at) do nothing

-- name: find_by_external_id
-- The live contact holding an external_id.
select id from contacts
where workspace_id = $1 and livemode = $2 and external_id = $3 and deleted_at is null;

-- name: find_by_email
-- The live contact of a customer with this email ($3 customer, $4 the email's compared form).
select id from contacts
where workspace_id = $1 and livemode = $2 and customer_id = $3 and email_normalized = $4
  and deleted_at is null;

-- name: demote_primary
-- Clear the customer's primary contact (other than $3); returns the contacts it changed.
update contacts set is_primary = false, updated_at = clock_timestamp()
where workspace_id = $1 and customer_id = $2 and is_primary and deleted_at is null and id <> $3
returning id;

-- name: insert_many
-- New contacts, one per array element, in order; elements whose created_at lands on a taken
-- microsecond insert nothing (the caller tries them again), any other unique clash raises.
-- Their created_at values are one statement time plus a microsecond per element.
insert into contacts (id, workspace_id, livemode, display_id, customer_id, email,
                      email_normalized, name, title, phone, is_primary, external_id, metadata,
                      created_at, updated_at)
select v.id, :workspace_id, :livemode,
       nextval(display_id_sequence(:workspace_id, :livemode, 'contact')::regclass), v.customer,
       v.email, v.email_normalized, v.name, v.title, v.phone, v.is_primary, v.external_id,
       v.metadata, now.ts, now.ts
from unnest(:id::text[], :customer::text[], :email::text[], :email_normalized::text[],
            :name::text[], :title::text[], :phone::text[], :is_primary::boolean[],
            :external_id::text[], :metadata::jsonb[])
     with ordinality as v(id, customer, email, email_normalized, name, title, phone, is_primary,
                          external_id, metadata, position)
cross join (select clock_timestamp() as ts) as base
cross join lateral (select base.ts + (v.position - 1) * interval '1 microsecond' as ts) as now
order by v.position
on conflict (workspace_id, livemode, created_at) do nothing

-- name: update_many
-- Contacts (locked by the caller) set to their new values (a null email_normalized keeps the
-- stored one); answers each new updated_at.
update contacts t
set email = v.email, email_normalized = coalesce(v.email_normalized, t.email_normalized),
    name = v.name, title = v.title, phone = v.phone, is_primary = v.is_primary,
    external_id = v.external_id, metadata = v.metadata, updated_at = clock_timestamp()
from unnest(:id::text[], :email::text[], :email_normalized::text[], :name::text[],
            :title::text[], :phone::text[], :is_primary::boolean[], :external_id::text[],
            :metadata::jsonb[])
     as v(id, email, email_normalized, name, title, phone, is_primary, external_id, metadata)
where t.workspace_id = :workspace_id and t.id = v.id
returning t.id, api_timestamp(t.updated_at) as updated_at;

-- name: find_many_by_email
-- Live contacts holding (customer, compared form of an email) pairs; answers the pair as asked.
select c.id, v.customer_id, v.email
from unnest(:customer_id::text[], :email::text[]) as v(customer_id, email)
join contacts c on c.customer_id = v.customer_id and c.email_normalized = v.email
where c.workspace_id = :workspace_id and c.livemode = :livemode and c.deleted_at is null;
