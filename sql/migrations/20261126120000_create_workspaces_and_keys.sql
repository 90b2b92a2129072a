-- migrate:up
create table workspaces (
    id text primary key,
    name text not null,
    created_at timestamptz not null default clock_timestamp(),
    constraint workspaces_name_key unique (name)
);

create table api_keys (
    id text primary key,
    workspace_id text not null references workspaces (id),
    livemode boolean not null,
    -- sha256 of the whole key; the key itself is shown once and never stored
    key_hash bytea not null,
    last4 text not null,
    created_at timestamptz not null default clock_timestamp(),
    revoked_at timestamptz,
    constraint api_keys_key_hash_key unique (key_hash)
);
create index api_keys_workspace_idx on api_keys (workspace_id);

-- display_id counters are sequences, one per (workspace, mode, object type): nextval() takes no
-- row lock and is not rolled back, so concurrent inserts into one workspace never queue behind
-- each other's commits. A rolled-back insert leaves a gap, which the contract allows.
create function display_id_sequence(workspace text, livemode boolean, object_type text)
returns text language sql immutable as $$
    select 'display_id_' || workspace || '_' || (case when livemode then 'live' else 'test' end)
        || '_' || object_type
$$;

create function create_display_id_sequences(workspace text, object_types text[])
returns void language plpgsql as $$
declare
    mode boolean;
    object_type text;
begin
    foreach object_type in array object_types loop
        foreach mode in array array[true, false] loop
            execute format('create sequence if not exists %I',
                           display_id_sequence(workspace, mode, object_type));
        end loop;
    end loop;
end
$$;

-- Timestamps as the API writes them (ISO 8601, UTC, milliseconds, Z), and the list cursor
-- (the same instant at full microsecond precision).
create function api_timestamp(ts timestamptz) returns text language sql stable parallel safe as $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

create function api_cursor(ts timestamptz) returns text language sql stable parallel safe as $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- migrate:down
drop function api_cursor(timestamptz);
drop function api_timestamp(timestamptz);
drop function create_display_id_sequences(text, text[]);
drop function display_id_sequence(text, boolean, text);
drop table api_keys;
drop table workspaces;
