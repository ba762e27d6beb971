import GRDB

/// Every schema change of the worker's database, in the order they were applied. Migrations are
/// versioned and never edited once released: a change is a new migration at the end.
extension SQLiteFulfillmentStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: inventory, holds, sales, processed messages, emails, events") { db in
            try db.create(table: "product") { t in
                t.column("sku", .text).primaryKey()
                t.column("name", .text).notNull()
                /// Units in the warehouse, sold ones already taken off; never negative.
                t.column("on_hand", .integer).notNull().check { $0 >= 0 }
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "hold") { t in
                t.column("checkout_id", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("sku", .text).notNull().references("product", onDelete: .cascade)
                t.column("quantity", .integer).notNull().check { $0 > 0 }
                /// A hold counts only until then: it lapses with its checkout.
                t.column("expires_at", .datetime).notNull()
                t.primaryKey(["checkout_id", "sku"])
            }
            try db.create(index: "hold_sku", on: "hold", columns: ["sku", "expires_at"])
            try db.create(index: "hold_order", on: "hold", columns: ["order_id"])
            try db.create(table: "closed_checkout") { t in
                /// A checkout that failed, expired or was paid: a late `checkout.created` for it
                /// must not hold stock again.
                t.column("checkout_id", .text).primaryKey()
                t.column("order_id", .text).notNull()
                t.column("outcome", .text).notNull()
                t.column("closed_at", .datetime).notNull()
            }
            try db.create(table: "sale") { t in
                t.column("order_id", .text).primaryKey()
                t.column("checkout_id", .text).notNull()
                t.column("payment_id", .text).notNull()
                /// `confirmed` (stock taken) or `backordered` (no stock taken, shortfall recorded).
                t.column("status", .text).notNull()
                t.column("amount", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "sale_line") { t in
                t.column("order_id", .text).notNull().references("sale", onDelete: .cascade)
                t.column("sku", .text).notNull()
                t.column("quantity", .integer).notNull()
                /// Units the stock could not cover (0 for a confirmed sale).
                t.column("shortfall", .integer).notNull()
                t.primaryKey(["order_id", "sku"])
            }
            try db.create(table: "processed_message") { t in
                /// The CloudEvents id (= AMQP message_id): one row per fact, whatever delivered it.
                t.column("id", .text).primaryKey()
                t.column("type", .text).notNull()
                t.column("order_id", .text).notNull()
                /// What applying it did, e.g. `held`, `sold`, `backordered`, `released`.
                t.column("outcome", .text).notNull()
                t.column("processed_at", .datetime).notNull()
            }
            try db.create(table: "notification") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("order_id", .text).notNull()
                /// `order_confirmed`, `order_backordered`, `payment_failed`, `payment_awaiting`.
                t.column("kind", .text).notNull()
                t.column("recipient", .text).notNull()
                /// Stable per order and kind, so a resend is recognisably the same email.
                t.column("message_id", .text).notNull().unique()
                t.column("subject", .text).notNull()
                /// The whole RFC 5322 message, rendered once when the row was written.
                t.column("message", .blob).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("next_attempt_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                /// Set when the server refused for good (5xx); such a row is never retried.
                t.column("failed_at", .datetime)
                t.column("last_error", .text)
                t.uniqueKey(["order_id", "kind"])
            }
            try db.create(index: "notification_due", on: "notification", columns: ["sent_at", "failed_at", "next_attempt_at"])
            try db.create(table: "event_outbox") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("event_id", .text).notNull().unique()
                t.column("type", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("body", .blob).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("published_at", .datetime)
            }
            try db.create(index: "event_outbox_unpublished", on: "event_outbox", columns: ["published_at", "sequence"])
        }
        migrator.registerMigration("v2: order ids scoped per storefront") { db in
            // Two storefronts may both have an order 1001: every row about an order names its
            // storefront. Rows written before keep the empty storefront, as do orders that come
            // in version 1 events. `sale` and `notification` key on the order, so they (and
            // `sale_line`, whose foreign key names both columns) are rebuilt; GRDB defers
            // foreign-key checks to the end.
            for table in ["hold", "closed_checkout", "processed_message", "event_outbox"] {
                try db.alter(table: table) { t in t.add(column: "storefront", .text).notNull().defaults(to: "") }
            }
            try db.drop(index: "hold_order")
            try db.create(index: "hold_order", on: "hold", columns: ["storefront", "order_id"])
            try db.create(table: "sale_v2") { t in
                t.column("storefront", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("checkout_id", .text).notNull()
                t.column("payment_id", .text).notNull()
                t.column("status", .text).notNull()
                t.column("amount", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.primaryKey(["storefront", "order_id"])
            }
            try db.execute(
                sql: """
                    INSERT INTO sale_v2 (storefront, order_id, checkout_id, payment_id, status, amount, currency, created_at)
                    SELECT '', order_id, checkout_id, payment_id, status, amount, currency, created_at FROM sale
                    """)
            try db.create(table: "sale_line_v2") { t in
                t.column("storefront", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("sku", .text).notNull()
                t.column("quantity", .integer).notNull()
                t.column("shortfall", .integer).notNull()
                t.primaryKey(["storefront", "order_id", "sku"])
                t.foreignKey(["storefront", "order_id"], references: "sale", columns: ["storefront", "order_id"], onDelete: .cascade)
            }
            try db.execute(
                sql: """
                    INSERT INTO sale_line_v2 (storefront, order_id, sku, quantity, shortfall)
                    SELECT '', order_id, sku, quantity, shortfall FROM sale_line
                    """)
            try db.drop(table: "sale_line")
            try db.drop(table: "sale")
            try db.rename(table: "sale_v2", to: "sale")
            try db.rename(table: "sale_line_v2", to: "sale_line")
            try db.create(table: "notification_v2") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("storefront", .text).notNull()
                t.column("order_id", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("recipient", .text).notNull()
                t.column("message_id", .text).notNull().unique()
                t.column("subject", .text).notNull()
                t.column("message", .blob).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("next_attempt_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.column("failed_at", .datetime)
                t.column("last_error", .text)
                t.uniqueKey(["storefront", "order_id", "kind"])
            }
            try db.execute(
                sql: """
                    INSERT INTO notification_v2 (id, storefront, order_id, kind, recipient, message_id, subject, message, created_at,
                        attempts, next_attempt_at, sent_at, failed_at, last_error)
                    SELECT id, '', order_id, kind, recipient, message_id, subject, message, created_at,
                        attempts, next_attempt_at, sent_at, failed_at, last_error FROM notification
                    """)
            try db.drop(table: "notification")
            try db.rename(table: "notification_v2", to: "notification")
            try db.create(index: "notification_due", on: "notification", columns: ["sent_at", "failed_at", "next_attempt_at"])
        }
        migrator.registerMigration("v3: outbox rows claimed by one relay or sender at a time") { db in
            // Until then no other relay or sender takes the row.
            try db.alter(table: "event_outbox") { t in t.add(column: "claimed_until", .datetime) }
            try db.alter(table: "notification") { t in t.add(column: "claimed_until", .datetime) }
        }
        return migrator
    }
}
