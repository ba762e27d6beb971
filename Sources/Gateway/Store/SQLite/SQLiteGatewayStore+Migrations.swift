import Foundation
import GRDB

/// Every schema change of the gateway's store, in order. Migrations are versioned: an applied
/// one is never edited, a change is a new one.
extension SQLiteGatewayStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: orders, checkouts, keys, idempotency, outbox") { db in
            try db.create(table: "storefront_key") { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull()
                /// SHA-256 of the key; the key itself is never stored.
                t.column("key_hash", .blob).notNull().unique()
                /// The first characters, so a person can tell keys apart in `api-keys list`.
                t.column("key_prefix", .text).notNull()
                /// `environment` (from STOREFRONT_API_KEYS) or `cli`.
                t.column("source", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("revoked_at", .datetime)
            }
            try db.create(table: "order") { t in
                t.column("id", .text).primaryKey()
                t.column("storefront", .text).notNull()
                t.column("amount", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("language", .text).notNull()
                t.column("customer", .jsonText).notNull()
                t.column("line_items", .jsonText).notNull()
                /// `open`, `paid`, or a terminal state of its last checkout.
                t.column("status", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "checkout") { t in
                t.column("id", .text).primaryKey()
                t.column("order_id", .text).notNull().references("order")
                t.column("attempt", .integer).notNull()
                t.column("ui", .text).notNull()
                t.column("status", .text).notNull()
                t.column("mode", .text).notNull()
                /// Fintoc's `cs_…` or `pi_…`.
                t.column("provider_id", .text).notNull().unique()
                /// The payment intent behind a session, once known.
                t.column("payment_intent_id", .text)
                t.column("redirect_url", .text)
                t.column("session_token", .text)
                t.column("widget_token", .text)
                t.column("success_url", .text).notNull()
                t.column("cancel_url", .text).notNull()
                t.column("metadata", .jsonText).notNull()
                t.column("failure_reason", .text)
                t.column("expires_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.uniqueKey(["order_id", "attempt"])
            }
            try db.create(table: "idempotency_key") { t in
                t.column("storefront", .text).notNull()
                t.column("key", .text).notNull()
                /// SHA-256 of the request's canonical form: same key, other body is a conflict.
                t.column("request_hash", .blob).notNull()
                /// `in_progress` until the answer is stored.
                t.column("state", .text).notNull()
                t.column("response_status", .integer)
                t.column("response_body", .blob)
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["storefront", "key"])
            }
            try db.create(index: "idempotency_key_created_at", on: "idempotency_key", columns: ["created_at"])
            try db.create(table: "outbox") { t in
                /// Publication order: the relay publishes by ascending sequence.
                t.autoIncrementedPrimaryKey("sequence")
                /// The CloudEvents id; one row per fact, whatever path wrote it.
                t.column("event_id", .text).notNull().unique()
                t.column("order_id", .text).notNull()
                t.column("type", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("traceparent", .text)
                t.column("created_at", .datetime).notNull()
                t.column("published_at", .datetime)
                t.column("publish_attempts", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "outbox_unpublished", on: "outbox", columns: ["published_at", "sequence"])
            try db.create(index: "outbox_order", on: "outbox", columns: ["order_id", "sequence"])
        }
        migrator.registerMigration("v2: idempotency claims") { db in
            // The token of the request that holds an in-progress key: only it may answer or free
            // the key, even after a later request took over a key it had abandoned.
            try db.alter(table: "idempotency_key") { t in t.add(column: "claim", .text) }
        }
        migrator.registerMigration("v3: webhook inbox, payment intents, reconciliation") { db in
            try db.create(table: "inbox") { t in
                /// Fintoc's event id (`evt_…`), or `rec_…` for a fact synthesised by reconciliation.
                t.column("id", .text).primaryKey()
                t.column("type", .text).notNull()
                /// `webhook` or `reconciliation`.
                t.column("source", .text).notNull()
                /// The Fintoc object the event is about (`cs_…`, `pi_…`, `re_…`), when it names one.
                t.column("object_id", .text)
                /// The checkout it was matched to, if any.
                t.column("checkout_id", .text)
                /// What ingesting it did (see `InboxRecord.Outcome`).
                t.column("outcome", .text).notNull()
                t.column("detail", .text)
                /// The request body exactly as signed.
                t.column("body", .blob).notNull()
                t.column("occurred_at", .datetime)
                t.column("received_at", .datetime).notNull()
            }
            try db.create(index: "inbox_object", on: "inbox", columns: ["object_id"])
            try db.create(index: "inbox_checkout", on: "inbox", columns: ["checkout_id"])
            try db.create(table: "payment_intent") { t in
                /// Fintoc's `pi_…`: one row per payment attempt, so each keeps its own state.
                t.column("id", .text).primaryKey()
                t.column("checkout_id", .text).notNull().references("checkout")
                t.column("status", .text).notNull()
                t.column("reason", .text)
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(index: "payment_intent_checkout", on: "payment_intent", columns: ["checkout_id"])
            try db.alter(table: "checkout") { t in
                /// Set when a webhook contradicted what is known: reconciliation re-reads it first.
                t.add(column: "review_since", .datetime)
                /// Last time reconciliation read the checkout from Fintoc.
                t.add(column: "reconciled_at", .datetime)
                /// A payment finished the session: it takes no new attempt.
                t.add(column: "session_finished", .boolean).notNull().defaults(to: false)
                /// Bumped by every change of the checkout's state or attempts: a webhook worked
                /// out from an older version is worked out again inside the transaction.
                t.add(column: "version", .integer).notNull().defaults(to: 0)
            }
            try db.alter(table: "order") { t in
                /// The checkout whose payment paid the order; another success is a duplicate.
                t.add(column: "paid_checkout_id", .text)
            }
            try db.create(index: "checkout_open", on: "checkout", columns: ["status", "expires_at"])
        }
        migrator.registerMigration("v4: Fintoc customers by tax id") { db in
            // Seed 002: a session whose customer_data names a tax id Fintoc already has is refused
            // (409); the Customer's id must be sent instead. See GatewayStore+Customers.
            try db.create(table: "fintoc_customer") { t in
                t.column("mode", .text).notNull()
                t.column("tax_id_type", .text).notNull()
                /// `TaxID.normalizedValue`: one spelling per person.
                t.column("tax_id", .text).notNull()
                t.column("customer_id", .text).notNull()
                t.column("updated_at", .datetime).notNull()
                t.primaryKey(["mode", "tax_id_type", "tax_id"])
            }
            try db.create(index: "fintoc_customer_id", on: "fintoc_customer", columns: ["customer_id"])
            try db.create(table: "checkout_customer_choice") { t in
                /// The checkout id a storefront request derives (one per request).
                t.column("checkout_id", .text).primaryKey()
                /// The `cus_…` the request names at Fintoc; null for `customer_data`.
                t.column("customer_id", .text)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "checkout_customer_choice_created_at", on: "checkout_customer_choice", columns: ["created_at"])
        }
        migrator.registerMigration("v5: order ids scoped per storefront") { db in
            // Two storefronts may both have an order 1001: an order is (storefront, id). SQLite
            // cannot change a primary key in place, so `order` and `checkout` (whose foreign key
            // now names both columns) are rebuilt; GRDB defers foreign-key checks to the end.
            try db.create(table: "order_v5") { t in
                t.column("storefront", .text).notNull()
                t.column("id", .text).notNull()
                t.column("amount", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("language", .text).notNull()
                t.column("customer", .jsonText).notNull()
                t.column("line_items", .jsonText).notNull()
                t.column("status", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("paid_checkout_id", .text)
                t.primaryKey(["storefront", "id"])
            }
            try db.execute(
                sql: """
                    INSERT INTO order_v5 (storefront, id, amount, currency, language, customer, line_items, status, created_at, updated_at, paid_checkout_id)
                    SELECT storefront, id, amount, currency, language, customer, line_items, status, created_at, updated_at, paid_checkout_id FROM "order"
                    """)
            try db.create(table: "checkout_v5") { t in
                t.column("id", .text).primaryKey()
                t.column("storefront", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("attempt", .integer).notNull()
                t.column("ui", .text).notNull()
                t.column("status", .text).notNull()
                t.column("mode", .text).notNull()
                t.column("provider_id", .text).notNull().unique()
                t.column("payment_intent_id", .text)
                t.column("redirect_url", .text)
                t.column("session_token", .text)
                t.column("widget_token", .text)
                t.column("success_url", .text).notNull()
                t.column("cancel_url", .text).notNull()
                t.column("metadata", .jsonText).notNull()
                t.column("failure_reason", .text)
                t.column("expires_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("review_since", .datetime)
                t.column("reconciled_at", .datetime)
                t.column("session_finished", .boolean).notNull().defaults(to: false)
                t.column("version", .integer).notNull().defaults(to: 0)
                t.uniqueKey(["storefront", "order_id", "attempt"])
                t.foreignKey(["storefront", "order_id"], references: "order", columns: ["storefront", "id"])
            }
            try db.execute(
                sql: """
                    INSERT INTO checkout_v5 (id, storefront, order_id, attempt, ui, status, mode, provider_id, payment_intent_id, redirect_url,
                        session_token, widget_token, success_url, cancel_url, metadata, failure_reason, expires_at, created_at, updated_at,
                        review_since, reconciled_at, session_finished, version)
                    SELECT checkout.id, "order".storefront, checkout.order_id, attempt, ui, checkout.status, mode, provider_id, payment_intent_id,
                        redirect_url, session_token, widget_token, success_url, cancel_url, metadata, failure_reason, expires_at,
                        checkout.created_at, checkout.updated_at, review_since, reconciled_at, session_finished, version
                    FROM checkout JOIN "order" ON "order".id = checkout.order_id
                    """)
            try db.drop(table: "checkout")
            try db.drop(table: "order")
            // `checkout_v5` names `"order"`, which the rename makes the new table; `payment_intent`
            // names `checkout`, likewise.
            try db.rename(table: "order_v5", to: "order")
            try db.rename(table: "checkout_v5", to: "checkout")
            try db.create(index: "checkout_open", on: "checkout", columns: ["status", "expires_at"])
            try db.alter(table: "outbox") { t in t.add(column: "storefront", .text).notNull().defaults(to: "") }
            try db.execute(
                sql: """
                    UPDATE outbox SET storefront = COALESCE((SELECT storefront FROM "order" WHERE "order".id = outbox.order_id), '')
                    """)
            try db.drop(index: "outbox_order")
            try db.create(index: "outbox_order", on: "outbox", columns: ["storefront", "order_id", "sequence"])
        }
        migrator.registerMigration("v6: leases") { db in
            // The gateway's singletons (the relay, reconciliation, the janitor) run where their
            // lease is held: one process on SQLite, one of the replicas on PostgreSQL.
            try db.create(table: "lease") { t in
                t.column("name", .text).primaryKey()
                t.column("holder", .text).notNull()
                t.column("expires_at", .datetime).notNull()
            }
        }
        return migrator
    }
}
