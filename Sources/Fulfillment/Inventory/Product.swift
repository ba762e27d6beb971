import Foundation
import GRDB

/// One product's stock as `inventory show` reports it.
public struct StockLevel: Sendable, Hashable, Codable, FetchableRecord {
    public var sku: String
    public var name: String
    /// Units in the warehouse.
    public var onHand: Int64
    /// Units promised to open checkouts whose holds have not lapsed.
    public var held: Int64
    /// `on_hand - held`: what a new checkout can still hold.
    public var available: Int64

    public init(sku: String, name: String, onHand: Int64, held: Int64, available: Int64) {
        self.sku = sku
        self.name = name
        self.onHand = onHand
        self.held = held
        self.available = available
    }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case sku, name, held, available
        case onHand = "on_hand"
    }
}

/// Reads and administrative writes of the product table (the `inventory` commands).
public enum ProductStore {
    static let levelsSQL = """
        SELECT product.sku, product.name, product.on_hand,
               COALESCE(SUM(hold.quantity), 0) AS held,
               product.on_hand - COALESCE(SUM(hold.quantity), 0) AS available
        FROM product LEFT JOIN hold ON hold.sku = product.sku AND hold.expires_at > ?
        """

    /// Every product, or only `sku`, by SKU.
    public static func levels(_ db: Database, sku: String? = nil, now: Date = Date()) throws -> [StockLevel] {
        if let sku {
            return try StockLevel.fetchAll(db, sql: levelsSQL + " WHERE product.sku = ? GROUP BY product.sku", arguments: [now, sku])
        }
        return try StockLevel.fetchAll(db, sql: levelsSQL + " GROUP BY product.sku ORDER BY product.sku", arguments: [now])
    }

    /// Sets the units on hand of an existing product; false when there is no such SKU.
    public static func setOnHand(_ db: Database, sku: String, to quantity: Int64, now: Date = Date()) throws -> Bool {
        try db.execute(sql: "UPDATE product SET on_hand = ?, updated_at = ? WHERE sku = ?", arguments: [quantity, now, sku])
        return db.changesCount > 0
    }

    /// Inserts or updates products (name and on-hand units), as a CSV import does.
    public static func upsert(_ db: Database, _ rows: [InventoryRow], now: Date = Date()) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO product (sku, name, on_hand, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(sku) DO UPDATE SET name = excluded.name, on_hand = excluded.on_hand, updated_at = excluded.updated_at
            """)
        for row in rows {
            try statement.execute(arguments: [row.sku, row.name, row.onHand, now])
        }
    }
}
