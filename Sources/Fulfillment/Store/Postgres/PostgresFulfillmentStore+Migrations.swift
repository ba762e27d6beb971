import PostgresSupport

/// Every schema change of the worker's PostgreSQL database, in order. The tables are SQLite's
/// (`SQLiteFulfillmentStore+Migrations.swift`) as they stand after its own migrations, in
/// PostgreSQL's types; from here on each engine's migrations move on their own, and a change
/// is a new migration at the end, never an edit.
extension PostgresFulfillmentStore {
    static let migrations: [PostgresMigration] = [
        PostgresMigration(
            "v1: inventory, holds, sales, processed messages, emails, events",
            [
                """
                CREATE TABLE product (
                    sku text PRIMARY KEY,
                    name text NOT NULL,
                    on_hand bigint NOT NULL CHECK (on_hand >= 0),
                    updated_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE hold (
                    checkout_id text NOT NULL,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    sku text NOT NULL REFERENCES product ON DELETE CASCADE,
                    quantity bigint NOT NULL CHECK (quantity > 0),
                    expires_at timestamptz NOT NULL,
                    PRIMARY KEY (checkout_id, sku)
                )
                """,
                "CREATE INDEX hold_sku ON hold (sku, expires_at)",
                "CREATE INDEX hold_order ON hold (storefront, order_id)",
                "CREATE INDEX hold_expiry ON hold (expires_at)",
                """
                CREATE TABLE closed_checkout (
                    checkout_id text PRIMARY KEY,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    outcome text NOT NULL,
                    closed_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE sale (
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    checkout_id text NOT NULL,
                    payment_id text NOT NULL,
                    status text NOT NULL,
                    amount bigint NOT NULL,
                    currency text NOT NULL,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (storefront, order_id)
                )
                """,
                """
                CREATE TABLE sale_line (
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    sku text NOT NULL,
                    quantity bigint NOT NULL,
                    shortfall bigint NOT NULL,
                    PRIMARY KEY (storefront, order_id, sku),
                    FOREIGN KEY (storefront, order_id) REFERENCES sale ON DELETE CASCADE
                )
                """,
                """
                CREATE TABLE processed_message (
                    id text PRIMARY KEY,
                    type text NOT NULL,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    outcome text NOT NULL,
                    processed_at timestamptz NOT NULL
                )
                """,
                """
                CREATE TABLE notification (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    kind text NOT NULL,
                    recipient text NOT NULL,
                    message_id text NOT NULL UNIQUE,
                    subject text NOT NULL,
                    message bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL,
                    sent_at timestamptz,
                    failed_at timestamptz,
                    last_error text,
                    claimed_until timestamptz,
                    UNIQUE (storefront, order_id, kind)
                )
                """,
                "CREATE INDEX notification_due ON notification (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL",
                """
                CREATE TABLE event_outbox (
                    sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id text NOT NULL UNIQUE,
                    type text NOT NULL,
                    storefront text NOT NULL,
                    order_id text NOT NULL,
                    body bytea NOT NULL,
                    created_at timestamptz NOT NULL,
                    published_at timestamptz,
                    claimed_until timestamptz
                )
                """,
                "CREATE INDEX event_outbox_unpublished ON event_outbox (sequence) WHERE published_at IS NULL",
            ])
    ]
}
