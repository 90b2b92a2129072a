--
-- Name: btree_gin; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

--
-- Name: EXTENSION btree_gin; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION btree_gin IS 'support for indexing common datatypes in GIN';

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

--
-- Name: api_cursor(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_cursor(ts timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

--
-- Name: api_timestamp(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.api_timestamp(ts timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

--
-- Name: create_display_id_sequences(text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.create_display_id_sequences(workspace text, object_types text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
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

--
-- Name: display_id_sequence(text, boolean, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.display_id_sequence(workspace text, livemode boolean, object_type text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    select 'display_id_' || workspace || '_' || (case when livemode then 'live' else 'test' end)
        || '_' || object_type
$$;

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    key_hash bytea NOT NULL,
    last4 text NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    revoked_at timestamp with time zone
);

--
-- Name: contacts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contacts (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    display_id bigint NOT NULL,
    customer_id text NOT NULL,
    email text NOT NULL,
    name text,
    title text,
    phone text,
    is_primary boolean DEFAULT false NOT NULL,
    external_id text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    email_normalized text NOT NULL
);

--
-- Name: customers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customers (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    display_id bigint NOT NULL,
    name text NOT NULL,
    domain text,
    lifecycle_stage text DEFAULT 'onboarding'::text NOT NULL,
    owner_email text,
    external_id text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT customers_lifecycle_stage_check CHECK ((lifecycle_stage = ANY (ARRAY['onboarding'::text, 'active'::text, 'at_risk'::text, 'churned'::text])))
);

--
-- Name: events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.events (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    display_id bigint NOT NULL,
    type text NOT NULL,
    object_id text NOT NULL,
    data json NOT NULL,
    created_at timestamp with time zone NOT NULL,
    fanned_out_at timestamp with time zone
);

--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    key text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    fingerprint bytea NOT NULL,
    status integer NOT NULL,
    response bytea NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);

--
-- Name: onboardings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.onboardings (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    display_id bigint NOT NULL,
    customer_id text NOT NULL,
    name text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    owner_email text,
    target_date date,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    external_id text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT onboardings_status_check CHECK ((status = ANY (ARRAY['active'::text, 'paused'::text, 'completed'::text, 'cancelled'::text])))
);

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);

--
-- Name: webhook_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_attempts (
    id bigint NOT NULL,
    delivery_id text NOT NULL,
    attempted_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    status_code integer,
    latency_ms integer NOT NULL,
    error text,
    response_body text,
    workspace_id text NOT NULL
);

--
-- Name: webhook_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.webhook_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    event_id text NOT NULL,
    endpoint_id text NOT NULL,
    redelivery boolean DEFAULT false NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempt_count integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    lease_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    updated_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    retry_base integer DEFAULT 0 NOT NULL,
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'succeeded'::text, 'failed'::text])))
);

--
-- Name: webhook_endpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoints (
    id text NOT NULL,
    workspace_id text NOT NULL,
    livemode boolean NOT NULL,
    display_id bigint NOT NULL,
    url text NOT NULL,
    enabled_events text[] NOT NULL,
    description text,
    status text DEFAULT 'enabled'::text NOT NULL,
    secret text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    previous_secret text,
    previous_secret_expires_at timestamp with time zone,
    failing_since timestamp with time zone,
    CONSTRAINT webhook_endpoints_status_check CHECK ((status = ANY (ARRAY['enabled'::text, 'disabled'::text])))
);

--
-- Name: workspaces; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.workspaces (
    id text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);

--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id, workspace_id);

--
-- Name: contacts contacts_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_created_at_key UNIQUE (workspace_id, livemode, created_at);

--
-- Name: contacts contacts_display_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_display_id_key UNIQUE (workspace_id, livemode, display_id);

--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: customers customers_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_created_at_key UNIQUE (workspace_id, livemode, created_at);

--
-- Name: customers customers_display_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_display_id_key UNIQUE (workspace_id, livemode, display_id);

--
-- Name: customers customers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: events events_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_created_at_key UNIQUE (workspace_id, livemode, created_at);

--
-- Name: events events_display_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_display_id_key UNIQUE (workspace_id, livemode, display_id);

--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (workspace_id, livemode, key);

--
-- Name: onboardings onboardings_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.onboardings
    ADD CONSTRAINT onboardings_created_at_key UNIQUE (workspace_id, livemode, created_at);

--
-- Name: onboardings onboardings_display_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.onboardings
    ADD CONSTRAINT onboardings_display_id_key UNIQUE (workspace_id, livemode, display_id);

--
-- Name: onboardings onboardings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.onboardings
    ADD CONSTRAINT onboardings_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: webhook_attempts webhook_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: webhook_deliveries webhook_deliveries_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_created_at_key UNIQUE (workspace_id, endpoint_id, created_at);

--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: webhook_endpoints webhook_endpoints_created_at_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_created_at_key UNIQUE (workspace_id, livemode, created_at);

--
-- Name: webhook_endpoints webhook_endpoints_display_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_display_id_key UNIQUE (workspace_id, livemode, display_id);

--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (workspace_id, id);

--
-- Name: workspaces workspaces_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.workspaces
    ADD CONSTRAINT workspaces_name_key UNIQUE (name);

--
-- Name: workspaces workspaces_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.workspaces
    ADD CONSTRAINT workspaces_pkey PRIMARY KEY (id);

--
-- Name: api_keys_workspace_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_keys_workspace_idx ON public.api_keys USING btree (workspace_id);

--
-- Name: contacts_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contacts_customer_idx ON public.contacts USING btree (workspace_id, livemode, customer_id, created_at) WHERE (deleted_at IS NULL);

--
-- Name: contacts_email_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contacts_email_idx ON public.contacts USING btree (workspace_id, livemode, email_normalized, created_at) WHERE (deleted_at IS NULL);

--
-- Name: contacts_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX contacts_email_key ON public.contacts USING btree (workspace_id, customer_id, email_normalized) WHERE (deleted_at IS NULL);

--
-- Name: contacts_external_id_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX contacts_external_id_key ON public.contacts USING btree (workspace_id, livemode, external_id) WHERE ((deleted_at IS NULL) AND (external_id IS NOT NULL));

--
-- Name: contacts_primary_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX contacts_primary_key ON public.contacts USING btree (workspace_id, customer_id) WHERE (is_primary AND (deleted_at IS NULL));

--
-- Name: contacts_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contacts_search_idx ON public.contacts USING gin (workspace_id, livemode, (((email || chr(31)) || COALESCE(name, ''::text))) public.gin_trgm_ops) WHERE (deleted_at IS NULL);

--
-- Name: contacts_updated_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX contacts_updated_at_idx ON public.contacts USING btree (workspace_id, livemode, updated_at) WHERE (deleted_at IS NULL);

--
-- Name: customers_domain_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX customers_domain_idx ON public.customers USING btree (workspace_id, livemode, domain, created_at) WHERE (deleted_at IS NULL);

--
-- Name: customers_external_id_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX customers_external_id_key ON public.customers USING btree (workspace_id, livemode, external_id) WHERE ((deleted_at IS NULL) AND (external_id IS NOT NULL));

--
-- Name: customers_lifecycle_stage_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX customers_lifecycle_stage_idx ON public.customers USING btree (workspace_id, livemode, lifecycle_stage, created_at) WHERE (deleted_at IS NULL);

--
-- Name: customers_owner_email_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX customers_owner_email_idx ON public.customers USING btree (workspace_id, livemode, owner_email, created_at) WHERE (deleted_at IS NULL);

--
-- Name: customers_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX customers_search_idx ON public.customers USING gin (workspace_id, livemode, (((((name || chr(31)) || COALESCE(domain, ''::text)) || chr(31)) || COALESCE(external_id, ''::text))) public.gin_trgm_ops) WHERE (deleted_at IS NULL);

--
-- Name: customers_updated_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX customers_updated_at_idx ON public.customers USING btree (workspace_id, livemode, updated_at) WHERE (deleted_at IS NULL);

--
-- Name: events_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_created_at_idx ON public.events USING btree (created_at);

--
-- Name: events_pending_fan_out_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_pending_fan_out_idx ON public.events USING btree (created_at) WHERE (fanned_out_at IS NULL);

--
-- Name: events_type_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX events_type_idx ON public.events USING btree (workspace_id, livemode, type, created_at);

--
-- Name: idempotency_keys_created_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at);

--
-- Name: onboardings_customer_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_customer_idx ON public.onboardings USING btree (workspace_id, livemode, customer_id, created_at) WHERE (deleted_at IS NULL);

--
-- Name: onboardings_external_id_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX onboardings_external_id_key ON public.onboardings USING btree (workspace_id, livemode, external_id) WHERE ((deleted_at IS NULL) AND (external_id IS NOT NULL));

--
-- Name: onboardings_owner_email_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_owner_email_idx ON public.onboardings USING btree (workspace_id, livemode, owner_email, created_at) WHERE (deleted_at IS NULL);

--
-- Name: onboardings_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_search_idx ON public.onboardings USING gin (workspace_id, livemode, name public.gin_trgm_ops) WHERE (deleted_at IS NULL);

--
-- Name: onboardings_status_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_status_idx ON public.onboardings USING btree (workspace_id, livemode, status, created_at) WHERE (deleted_at IS NULL);

--
-- Name: onboardings_target_date_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_target_date_idx ON public.onboardings USING btree (workspace_id, livemode, target_date) WHERE (deleted_at IS NULL);

--
-- Name: onboardings_updated_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX onboardings_updated_at_idx ON public.onboardings USING btree (workspace_id, livemode, updated_at) WHERE (deleted_at IS NULL);

--
-- Name: webhook_attempts_delivery_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_attempts_delivery_idx ON public.webhook_attempts USING btree (workspace_id, delivery_id, attempted_at);

--
-- Name: webhook_deliveries_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);

--
-- Name: webhook_deliveries_endpoint_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_endpoint_due_idx ON public.webhook_deliveries USING btree (workspace_id, endpoint_id, next_attempt_at) WHERE (status = 'pending'::text);

--
-- Name: webhook_deliveries_event_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_event_idx ON public.webhook_deliveries USING btree (workspace_id, event_id);

--
-- Name: webhook_deliveries_failed_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_failed_idx ON public.webhook_deliveries USING btree (workspace_id, endpoint_id, updated_at) WHERE (status = 'failed'::text);

--
-- Name: webhook_deliveries_leased_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_deliveries_leased_idx ON public.webhook_deliveries USING btree (workspace_id, endpoint_id) WHERE (lease_until IS NOT NULL);

--
-- Name: webhook_deliveries_once_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX webhook_deliveries_once_key ON public.webhook_deliveries USING btree (workspace_id, event_id, endpoint_id) WHERE (NOT redelivery);

--
-- Name: webhook_endpoints_enabled_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX webhook_endpoints_enabled_idx ON public.webhook_endpoints USING btree (workspace_id, livemode) WHERE ((status = 'enabled'::text) AND (deleted_at IS NULL));

--
-- Name: api_keys api_keys_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: contacts contacts_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_customer_id_fkey FOREIGN KEY (workspace_id, customer_id) REFERENCES public.customers(workspace_id, id);

--
-- Name: contacts contacts_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: customers customers_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: events events_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: idempotency_keys idempotency_keys_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: onboardings onboardings_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.onboardings
    ADD CONSTRAINT onboardings_customer_id_fkey FOREIGN KEY (workspace_id, customer_id) REFERENCES public.customers(workspace_id, id);

--
-- Name: onboardings onboardings_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.onboardings
    ADD CONSTRAINT onboardings_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: webhook_attempts webhook_attempts_delivery_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT webhook_attempts_delivery_id_fkey FOREIGN KEY (workspace_id, delivery_id) REFERENCES public.webhook_deliveries(workspace_id, id) ON DELETE CASCADE;

--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (workspace_id, endpoint_id) REFERENCES public.webhook_endpoints(workspace_id, id) ON DELETE CASCADE;

--
-- Name: webhook_deliveries webhook_deliveries_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (workspace_id, event_id) REFERENCES public.events(workspace_id, id) ON DELETE CASCADE;

--
-- Name: webhook_deliveries webhook_deliveries_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- Name: webhook_endpoints webhook_endpoints_workspace_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

--
-- PostgreSQL database dump complete
--

--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261126120000'),
    ('20261126120100'),
    ('20261126120200'),
    ('20261126120300'),
    ('20261126120400'),
    ('20261201120000'),
    ('20261201130000'),
    ('20261210120000'),
    ('20261211120000'),
    ('20261212120000');
