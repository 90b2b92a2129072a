-- migrate:up
-- Indexes for the dashboard filters: updated ranges on every resource, target_date ranges on
-- onboardings, and `q` substring search. The search indexes are trigram GIN indexes led by the
-- tenant columns (btree_gin), so a search never reads another workspace's entries.
create extension if not exists pg_trgm;
create extension if not exists btree_gin;

create index customers_updated_at_idx on customers (workspace_id, livemode, updated_at)
    where deleted_at is null;
create index contacts_updated_at_idx on contacts (workspace_id, livemode, updated_at)
    where deleted_at is null;
create index onboardings_updated_at_idx on onboardings (workspace_id, livemode, updated_at)
    where deleted_at is null;
create index onboardings_target_date_idx on onboardings (workspace_id, livemode, target_date)
    where deleted_at is null;

-- the expressions are the ones app/<resource>/resource.py searches (Search)
create index customers_search_idx on customers using gin (
    workspace_id, livemode,
    (name || chr(31) || coalesce(domain, '') || chr(31) || coalesce(external_id, ''))
        gin_trgm_ops)
    where deleted_at is null;
create index contacts_search_idx on contacts using gin (
    workspace_id, livemode, (email || chr(31) || coalesce(name, '')) gin_trgm_ops)
    where deleted_at is null;
create index onboardings_search_idx on onboardings using gin (
    workspace_id, livemode, name gin_trgm_ops)
    where deleted_at is null;

-- migrate:down
drop index onboardings_search_idx;
drop index contacts_search_idx;
drop index customers_search_idx;
drop index onboardings_target_date_idx;
drop index onboardings_updated_at_idx;
drop index contacts_updated_at_idx;
drop index customers_updated_at_idx;
