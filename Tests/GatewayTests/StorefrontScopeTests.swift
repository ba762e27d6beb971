import Foundation
import GRDB
import PaymentsCore
import Testing

@testable import Gateway

/// Order ids are per storefront in the store: the upgrade keeps every stored order's storefront,
/// and operators name an order by (storefront, id) when the id alone is ambiguous.
@Suite("Order ids scoped per storefront (store)")
struct StorefrontScopeTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cobro-scope-\(UUID().uuidString).sqlite").path
    }

    @Test("a database from before the change migrates: orders, checkouts and outbox rows keep their storefront; ids may then repeat")
    func migratesStoredOrders() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            // The schema as the previous release left it, with one order, its checkout, a payment
            // intent and an event.
            let queue = try DatabaseQueue(path: path)
            try SQLiteGatewayStore.migrator.migrate(queue, upTo: "v4: Fintoc customers by tax id")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO "order" (id, storefront, amount, currency, language, customer, line_items, status, created_at, updated_at, paid_checkout_id)
                        VALUES ('1001', 'shop', 350000, 'CLP', 'es', '{"email":"a@example.cl"}', '[{"sku":"MUG-01","name":"Tazón","quantity":1,"unit_amount":350000}]',
                                'paid', '2026-11-01 10:00:00.000', '2026-11-01 10:05:00.000', 'chk_old');
                        INSERT INTO checkout (id, order_id, attempt, ui, status, mode, provider_id, success_url, cancel_url, metadata, created_at, updated_at, version)
                        VALUES ('chk_old', '1001', 1, 'redirect', 'succeeded', 'test', 'cs_old', 'https://s.example/ok', 'https://s.example/ko', '{}',
                                '2026-11-01 10:00:00.000', '2026-11-01 10:05:00.000', 3);
                        INSERT INTO payment_intent (id, checkout_id, status, updated_at) VALUES ('pi_old', 'chk_old', 'succeeded', '2026-11-01 10:05:00.000');
                        INSERT INTO outbox (event_id, order_id, type, body, created_at) VALUES ('1001/checkout.created/1', '1001', 'checkout.created', x'7B7D', '2026-11-01 10:00:00.000');
                        """)
            }
            try queue.close()
        }

        let database = try GatewayStore(path: path)
        try database.sqlitePool.read { db in
            let order = try #require(try OrderRecord.find(storefront: "shop", id: "1001", in: db))
            #expect(order.status == .paid && order.paidCheckoutID == "chk_old")
            let checkout = try #require(try CheckoutRecord.fetchOne(db, key: "chk_old"))
            #expect(checkout.storefront == "shop" && checkout.orderID == "1001" && checkout.version == 3 && checkout.status == .succeeded)
            #expect(try checkout.order(in: db)?.amount == 350_000)
            #expect(try String.fetchOne(db, sql: "SELECT storefront FROM outbox WHERE event_id = '1001/checkout.created/1'") == "shop")
            #expect(try String.fetchOne(db, sql: "SELECT checkout_id FROM payment_intent WHERE id = 'pi_old'") == "chk_old")
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
        }
        // Another storefront's 1001 is another order, with its own attempt 1.
        let now = Date()
        try database.sqlitePool.write { db in
            try OrderRecord(
                id: "1001", storefront: "other-shop", amount: 10_000, currency: .clp, language: .spanish,
                customer: Customer(email: "b@example.cl"), lineItems: [LineItem(sku: "X", name: "X", quantity: 1, unitAmount: 10_000)],
                status: .open, createdAt: now, updatedAt: now
            ).insert(db)
            try CheckoutRecord(
                id: "chk_new", storefront: "other-shop", orderID: "1001", attempt: 1, ui: .redirect, status: .created, mode: "test",
                providerID: "cs_new", paymentIntentID: nil, redirectURL: nil, sessionToken: nil, widgetToken: nil,
                successURL: "https://o.example/ok", cancelURL: "https://o.example/ko", metadata: [:], failureReason: nil,
                expiresAt: nil, createdAt: now, updatedAt: now
            ).insert(db)
        }
        // A checkout must belong to an order of its own storefront.
        #expect(throws: DatabaseError.self) {
            try database.sqlitePool.write { db in
                try CheckoutRecord(
                    id: "chk_orphan", storefront: "third-shop", orderID: "1001", attempt: 1, ui: .redirect, status: .created, mode: "test",
                    providerID: "cs_orphan", paymentIntentID: nil, redirectURL: nil, sessionToken: nil, widgetToken: nil,
                    successURL: "https://o.example/ok", cancelURL: "https://o.example/ko", metadata: [:], failureReason: nil,
                    expiresAt: nil, createdAt: now, updatedAt: now
                ).insert(db)
            }
        }
    }

    @Test("events list and replay name one order: an id two storefronts share needs --storefront; an unknown one says so")
    func operatorsNameTheStorefront() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try GatewayStore(path: path)
        let now = Date()
        try await database.sqlitePool.write { db in
            for storefront in ["shop", "other-shop"] {
                try OrderRecord(
                    id: "1001", storefront: storefront, amount: 10_000, currency: .clp, language: .spanish,
                    customer: Customer(email: "a@example.cl"), lineItems: [LineItem(sku: "X", name: "X", quantity: 1, unitAmount: 10_000)],
                    status: .open, createdAt: now, updatedAt: now
                ).insert(db)
                try db.execute(
                    sql:
                        "INSERT INTO outbox (event_id, storefront, order_id, type, body, created_at) VALUES (?, ?, '1001', 'checkout.created', x'7B7D', ?)",
                    arguments: ["\(storefront)/1001/checkout.created/1", storefront, now])
            }
        }
        let log = EventLog(store: database)
        await #expect(throws: EventLog.LookupError.ambiguous(id: "1001", storefronts: ["other-shop", "shop"])) {
            _ = try await log.history(order: .init(id: "1001"))
        }
        #expect(
            EventLog.LookupError.ambiguous(id: "1001", storefronts: ["other-shop", "shop"]).description
                == "order 1001 exists in storefronts other-shop, shop; say which with --storefront")
        let history = try await log.history(order: .init(storefront: "other-shop", id: "1001"))
        #expect(history.storefront == "other-shop" && history.domainEvents.map(\.id) == ["other-shop/1001/checkout.created/1"])
        #expect(
            try await log.selection(order: .init(storefront: "shop", id: "1001"), since: nil).map(\.id) == ["shop/1001/checkout.created/1"])
        await #expect(throws: EventLog.LookupError.unknown(.init(storefront: "third", id: "1001"))) {
            _ = try await log.selection(order: .init(storefront: "third", id: "1001"), since: nil)
        }
        // Once only one storefront has the id, the id alone is enough.
        try await database.sqlitePool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO \"order\" SELECT 'solo', '2002', amount, currency, language, customer, line_items, status, created_at, updated_at, NULL FROM \"order\" LIMIT 1"
            )
        }
        #expect(try await log.history(order: .init(id: "2002")).storefront == "solo")
    }
}
