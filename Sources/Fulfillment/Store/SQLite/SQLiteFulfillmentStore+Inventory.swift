import Foundation
import GRDB

/// The stock an operator loads, reads and corrects (the executable's `inventory` commands).
/// The stock changes that messages make are in `DeliveryWrites`.
extension SQLiteFulfillmentStore {
    private static let levelsSQL = """
        SELECT product.sku, product.name, product.on_hand,
               COALESCE(SUM(hold.quantity), 0) AS held,
               product.on_hand - COALESCE(SUM(hold.quantity), 0) AS available
        FROM product LEFT JOIN hold ON hold.sku = product.sku AND hold.expires_at > ?
        """

    /// Every product by SKU, or only `sku` (empty when there is no such product), with the
    /// units that holds live at `now` promise.
    func stockLevels(sku: String?, at now: Date) async throws -> [StockLevel] {
        try await pool.read { db in
            if let sku {
                return try StockLevel.fetchAll(
                    db, sql: Self.levelsSQL + " WHERE product.sku = ? GROUP BY product.sku", arguments: [now, sku])
            }
            return try StockLevel.fetchAll(db, sql: Self.levelsSQL + " GROUP BY product.sku ORDER BY product.sku", arguments: [now])
        }
    }

    /// Sets the units on hand of an existing product (after a count, say); false when there is
    /// no such SKU, in which case nothing changed.
    func setOnHand(sku: String, to quantity: Int64, at now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE product SET on_hand = ?, updated_at = ? WHERE sku = ?", arguments: [quantity, now, sku])
            return db.changesCount > 0
        }
    }

    /// Inserts or updates products (name and on-hand units) as a CSV import does: all rows in
    /// one transaction, so a failed import changes nothing.
    func importInventory(_ rows: [InventoryRow], at now: Date) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO product (sku, name, on_hand, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(sku) DO UPDATE SET name = excluded.name, on_hand = excluded.on_hand, updated_at = excluded.updated_at
                    """)
            for row in rows {
                try statement.execute(arguments: [row.sku, row.name, row.onHand, now])
            }
        }
    }
}
