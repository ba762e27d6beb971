import Foundation
import PostgresNIO
import PostgresSupport

/// Stock as operators load, read and correct it, and housekeeping's reads and tidying.
extension PostgresFulfillmentStore {
    func stockLevels(sku: String?, at now: Date) async throws -> [StockLevel] {
        let logger = logger
        return try await transaction("read stock levels") { connection in
            let rows = try await connection.query(
                """
                SELECT product.sku, product.name, product.on_hand,
                       COALESCE(SUM(hold.quantity), 0)::bigint AS held,
                       (product.on_hand - COALESCE(SUM(hold.quantity), 0))::bigint AS available
                FROM product LEFT JOIN hold ON hold.sku = product.sku AND hold.expires_at > \(now)
                WHERE \(sku)::text IS NULL OR product.sku = \(sku)
                GROUP BY product.sku ORDER BY product.sku
                """, logger: logger)
            var levels: [StockLevel] = []
            for try await (sku, name, onHand, held, available) in rows.decode((String, String, Int64, Int64, Int64).self) {
                levels.append(StockLevel(sku: sku, name: name, onHand: onHand, held: held, available: available))
            }
            return levels
        }
    }

    func setOnHand(sku: String, to quantity: Int64, at now: Date) async throws -> Bool {
        let logger = logger
        return try await transaction("set the stock of \(sku)") { connection in
            try await connection.count(
                "UPDATE product SET on_hand = \(quantity), updated_at = \(now) WHERE sku = \(sku) RETURNING 1", logger: logger) > 0
        }
    }

    /// One statement for the whole file, its rows in SKU order (the order in which delivery
    /// batches lock products, so an import never deadlocks with them); a SKU given twice keeps
    /// its last row, as on SQLite.
    func importInventory(_ rows: [InventoryRow], at now: Date) async throws {
        var last: [String: InventoryRow] = [:]
        for row in rows { last[row.sku] = row }
        let sorted = last.values.sorted { $0.sku < $1.sku }
        let logger = logger
        try await transaction("import \(sorted.count) products") { connection in
            try await connection.execute(
                """
                INSERT INTO product (sku, name, on_hand, updated_at)
                SELECT sku, name, on_hand, \(now)
                FROM unnest(\(sorted.map(\.sku))::text[], \(sorted.map(\.name))::text[], \(sorted.map(\.onHand))::bigint[]) AS row(sku, name, on_hand)
                ORDER BY sku
                ON CONFLICT (sku) DO UPDATE SET name = excluded.name, on_hand = excluded.on_hand, updated_at = excluded.updated_at
                """, logger: logger)
        }
    }

    func housekeepingCounts(at now: Date) async throws -> HousekeepingCounts {
        let logger = logger
        return try await transaction("read housekeeping counts") { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT count(*) FROM hold WHERE expires_at <= \(now)),
                       (SELECT count(*) FROM hold WHERE expires_at > \(now)),
                       (SELECT count(*) FROM notification WHERE sent_at IS NULL AND failed_at IS NULL)
                """, logger: logger)
            var counts = HousekeepingCounts(expiredHolds: 0, liveHolds: 0, emailBacklog: 0)
            for try await (expired, live, backlog) in rows.decode((Int64, Int64, Int64).self) {
                counts = HousekeepingCounts(expiredHolds: Int(expired), liveHolds: Int(live), emailBacklog: Int(backlog))
            }
            return counts
        }
    }

    /// Lapsed holds another transaction has locked (a batch about to replace them) are left
    /// for the next round.
    func releaseExpiredHolds(at now: Date) async throws -> Int {
        let logger = logger
        return try await transaction("release lapsed holds") { connection in
            try await connection.scalar(
                """
                WITH lapsed AS (SELECT checkout_id, sku FROM hold WHERE expires_at <= \(now) FOR UPDATE SKIP LOCKED),
                     gone AS (DELETE FROM hold USING lapsed WHERE hold.checkout_id = lapsed.checkout_id AND hold.sku = lapsed.sku RETURNING 1)
                SELECT count(*) FROM gone
                """, as: Int64.self, logger: logger
            ).map(Int.init) ?? 0
        }
    }
}
