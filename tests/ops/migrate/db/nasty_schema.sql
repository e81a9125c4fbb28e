-- A source database with what breaks naive copies. Loaded by tests/ops/migrate/db/conftest.py.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', '😀');
CREATE SCHEMA app;

-- Supabase-style managed schema: excluded by default; the FK and the policy that point into it are skipped.
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT NULL::uuid $$;
CREATE TABLE public.profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), bio text);
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_profile ON public.profiles USING (id = auth.uid());

CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    email citext UNIQUE,
    mood mood,
    balance numeric(30, 10),
    ratio double precision,
    tags text[],
    prefs jsonb,
    avatar bytea,
    created timestamptz DEFAULT now(),
    wait interval,
    name_len int GENERATED ALWAYS AS (length(name)) STORED,
    best_order int
);
CREATE TABLE app.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES app.customers (id),
    total numeric,
    placed timestamptz,
    items jsonb,
    grid int[][]
);
-- A foreign-key cycle: customers → orders → customers.
ALTER TABLE app.customers ADD CONSTRAINT customers_best_order_fkey
    FOREIGN KEY (best_order) REFERENCES app.orders (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX orders_placed_idx ON app.orders (placed DESC);
CREATE INDEX customers_prefs_idx ON app.customers USING gin (prefs);

CREATE TABLE app.events (at timestamptz NOT NULL, id bigint NOT NULL, kind text, payload jsonb,
                         PRIMARY KEY (at, id)) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX events_kind_idx ON app.events (kind);

CREATE TABLE app.log_nopk (line text, n int, at timestamp);

CREATE TABLE public.big (id bigint PRIMARY KEY, payload text, blob bytea, updated timestamptz);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$;
CREATE TRIGGER big_touch BEFORE INSERT OR UPDATE ON public.big FOR EACH ROW EXECUTE FUNCTION public.touch();

CREATE VIEW app.rich_customers AS SELECT id, name FROM app.customers WHERE balance > 1000;
CREATE MATERIALIZED VIEW app.order_totals AS SELECT customer_id, sum(total) AS total FROM app.orders GROUP BY 1;
