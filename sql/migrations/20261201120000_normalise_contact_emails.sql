-- migrate:up
-- email_normalized was lower(email) computed by PostgreSQL, while lookups lowercased in Python:
-- the two disagree beyond ASCII (İ, final sigma) and neither composes Unicode (a decomposed Ä
-- made a second contact). The service now computes it once, NFC then casefold
-- (app/core/validation.py), and stores it; existing rows get the closest PostgreSQL form.
alter table contacts add column email_key text;
update contacts set email_key = lower(normalize(email, NFC));
alter table contacts alter column email_key set not null;
alter table contacts drop column email_normalized;
alter table contacts rename column email_key to email_normalized;
create index contacts_email_idx on contacts (workspace_id, livemode, email_normalized, created_at)
    where deleted_at is null;
create unique index contacts_email_key on contacts (customer_id, email_normalized)
    where deleted_at is null;

-- migrate:down
drop index contacts_email_key;
drop index contacts_email_idx;
alter table contacts drop column email_normalized;
alter table contacts add column email_normalized text generated always as (lower(email)) stored;
create index contacts_email_idx on contacts (workspace_id, livemode, email_normalized, created_at)
    where deleted_at is null;
create unique index contacts_email_key on contacts (customer_id, email_normalized)
    where deleted_at is null;
