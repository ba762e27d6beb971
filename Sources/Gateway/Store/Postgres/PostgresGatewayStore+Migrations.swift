import PostgresSupport

/// Every schema change of the gateway's PostgreSQL database, in order. The tables are SQLite's
/// (`SQLiteGatewayStore+Migrations.swift`) as they stand after its own migrations, in
/// PostgreSQL's types; from here on each engine's migrations move on their own, and a change is
/// a new migration at the end, never an edit. JSON columns are text, as the records read them.
extension PostgresGatewayStore {
    static let migrations: [PostgresMigration] = [
        PostgresMigration(
            "v1: keys, orders, checkouts, idempotency, outbox, inbox, payment intents, customers",
            [
                """
                CREATE TABLE storefront_key (
                    id text PRIMARY KEY,
                    name text NOT NULL,
                    key_hash bytea NOT NULL UNIQUE,
                    key_prefix text NOT NULL,
                    source text NOT NULL,
                    created_at timestamptz NOT NULL,
                    revoked_at timestamptz
                )
                """,
                """
                CREATE TABLE "order" (
                    storefront text NOT NULL,
                    id text NOT NULL,
                    amount bigint NOT NULL,
                    currency text NOT NULL,
                    language text NOT NULL,
                    customer text NOT NULL,
                    line_items text NOT NULL,
                    status text NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    paid_checkout_id text,
                    PRIMARY KEY (storefront, id)
                )
                """,
                """
                CREATE TABLE checkout (
                    id text PRIMARY KEY,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    attempt bigint NOT NULL,
                    ui text NOT NULL,
                    status text NOT NULL,
                    mode text NOT NULL,
                    provider_id text NOT NULL UNIQUE,
                    payment_intent_id text,
                    redirect_url text,
                    session_token text,
                    widget_token text,
                    success_url text NOT NULL,
                    cancel_url text NOT NULL,
                    metadata text NOT NULL,
                    failure_reason text,
                    expires_at timestamptz,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    review_since timestamptz,
                    reconciled_at timestamptz,
                    session_finished boolean NOT NULL DEFAULT false,
                    version bigint NOT NULL DEFAULT 0,
                    UNIQUE (storefront, order_id, attempt),
                    FOREIGN KEY (storefront, order_id) REFERENCES "order" (storefront, id)
                )
                """,
                "CREATE INDEX checkout_open ON checkout (status, expires_at)",
                "CREATE INDEX checkout_review ON checkout (review_since) WHERE review_since IS NOT NULL",
                """
                CREATE TABLE idempotency_key (
                    storefront text NOT NULL,
                    key text NOT NULL,
                    request_hash bytea NOT NULL,
                    state text NOT NULL,
                    response_status bigint,
                    response_body bytea,
                    created_at timestamptz NOT NULL,
                    claim text,
                    PRIMARY KEY (storefront, key)
                )
                """,
                "CREATE INDEX idempotency_key_created_at ON idempotency_key (created_at)",
                """
                CREATE TABLE outbox (
                    sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id text NOT NULL UNIQUE,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    type text NOT NULL,
                    body bytea NOT NULL,
                    traceparent text,
                    created_at timestamptz NOT NULL,
                    published_at timestamptz,
                    publish_attempts bigint NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX outbox_unpublished ON outbox (storefront, order_id, sequence) WHERE published_at IS NULL",
                "CREATE INDEX outbox_order ON outbox (storefront, order_id, sequence)",
                """
                CREATE TABLE inbox (
                    id text PRIMARY KEY,
                    type text NOT NULL,
                    source text NOT NULL,
                    object_id text,
                    checkout_id text,
                    outcome text NOT NULL,
                    detail text,
                    body bytea NOT NULL,
                    occurred_at timestamptz,
                    received_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX inbox_object ON inbox (object_id)",
                "CREATE INDEX inbox_checkout ON inbox (checkout_id)",
                """
                CREATE TABLE payment_intent (
                    id text PRIMARY KEY,
                    checkout_id text NOT NULL REFERENCES checkout,
                    status text NOT NULL,
                    reason text,
                    updated_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX payment_intent_checkout ON payment_intent (checkout_id)",
                """
                CREATE TABLE fintoc_customer (
                    mode text NOT NULL,
                    tax_id_type text NOT NULL,
                    tax_id text NOT NULL,
                    customer_id text NOT NULL,
                    updated_at timestamptz NOT NULL,
                    PRIMARY KEY (mode, tax_id_type, tax_id)
                )
                """,
                "CREATE INDEX fintoc_customer_id ON fintoc_customer (customer_id)",
                """
                CREATE TABLE checkout_customer_choice (
                    checkout_id text PRIMARY KEY,
                    customer_id text,
                    created_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX checkout_customer_choice_created_at ON checkout_customer_choice (created_at)",
            ]),
        PostgresMigration(
            "v2: leases",
            [
                """
                CREATE TABLE lease (
                    name text PRIMARY KEY,
                    holder text NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """
            ]),
    ]
}
