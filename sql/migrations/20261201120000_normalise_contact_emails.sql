-- migrate:up
-- email_normalized was lower(email) computed by PostgreSQL, while lookups lowercased in Python:
-- the two disagree beyond ASCII (İ, final sigma) and neither composes Unicode (a decomposed Ä
-- made a second contact). The service now computes it once, NFC then casefold
-- (app/core/validation.py), and stores it; existing rows get the closest PostgreSQL form.
-- (Added NOT NULL with the column, under its final name: PostgreSQL 18 names a NOT NULL
-- constraint after its column, and the committed schema must dump alike from 15 and 18.)
alter table contacts drop column email_normalized;
alter table contacts add column email_normalized text not null default '';
update contacts set email_normalized = lower(normalize(email, NFC));
alter table contacts alter column email_normalized drop default;
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
