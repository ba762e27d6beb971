import Foundation
import GRDB
import Testing

@testable import Fulfillment

@Suite("Worker store: order ids scoped per storefront")
struct StorefrontMigrationTests {
    @Test(
        "a worker database from before the change migrates: earlier orders keep their rows under the empty storefront; ids may then repeat")
    func migratesEarlierOrders() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-worker-scope-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteFulfillmentStore.migrator.migrate(queue, upTo: "v1: inventory, holds, sales, processed messages, emails, events")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO product (sku, name, on_hand, updated_at) VALUES ('MUG-01', 'Tazón', 5, '2026-11-01 10:00:00.000');
                        INSERT INTO hold (checkout_id, order_id, sku, quantity, expires_at) VALUES ('chk_a', '1002', 'MUG-01', 1, '2099-01-01 00:00:00.000');
                        INSERT INTO sale (order_id, checkout_id, payment_id, status, amount, currency, created_at)
                            VALUES ('1001', 'chk_old', 'pi_old', 'confirmed', 10000, 'CLP', '2026-11-01 10:05:00.000');
                        INSERT INTO sale_line (order_id, sku, quantity, shortfall) VALUES ('1001', 'MUG-01', 1, 0);
                        INSERT INTO notification (order_id, kind, recipient, message_id, subject, message, created_at, next_attempt_at, sent_at)
                            VALUES ('1001', 'order_confirmed', 'a@example.cl', '<1001.order_confirmed@cobro.local>', 'Pedido', x'00',
                                    '2026-11-01 10:05:00.000', '2026-11-01 10:05:00.000', '2026-11-01 10:05:01.000');
                        INSERT INTO processed_message (id, type, order_id, outcome, processed_at) VALUES ('1001/payment.succeeded/1', 'payment.succeeded', '1001', 'sold', '2026-11-01 10:05:00.000');
                        """)
            }
            try queue.close()
        }
        let database = try SQLiteFulfillmentStore(path: path)
        try database.pool.write { db in
            #expect(
                try String.fetchAll(
                    db,
                    sql:
                        "SELECT storefront FROM sale UNION ALL SELECT storefront FROM sale_line UNION ALL SELECT storefront FROM hold UNION ALL SELECT storefront FROM notification UNION ALL SELECT storefront FROM processed_message"
                )
                    == ["", "", "", "", ""])
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let earlier = OrderKey(storefront: "", id: "1001")
            #expect(try SQLiteStockLedger.isSold(db, order: earlier))
            // A storefront's new order 1001 is another order: not sold, its own sale and email.
            #expect(try !SQLiteStockLedger.isSold(db, order: OrderKey(storefront: "shop", id: "1001")))
            try db.execute(
                sql: """
                    INSERT INTO sale (storefront, order_id, checkout_id, payment_id, status, amount, currency, created_at)
                        VALUES ('shop', '1001', 'chk_new', 'pi_new', 'confirmed', 10000, 'CLP', '2026-12-01 10:05:00.000');
                    INSERT INTO sale_line (storefront, order_id, sku, quantity, shortfall) VALUES ('shop', '1001', 'MUG-01', 1, 0);
                    INSERT INTO notification (storefront, order_id, kind, recipient, message_id, subject, message, created_at, next_attempt_at)
                        VALUES ('shop', '1001', 'order_confirmed', 'b@example.cl', '<shop+1001.order_confirmed@cobro.local>', 'Pedido', x'00',
                                '2026-12-01 10:05:00.000', '2026-12-01 10:05:00.000');
                    """)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sale WHERE order_id = '1001'") == 2)
        }
    }
}
