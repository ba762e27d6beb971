import Foundation
import GRDB
import PaymentsCore

/// The stock rules of `StockLedger` (docs/architecture.md rule 7) as SQLite statements inside
/// the caller's transaction, in the savepoint of the message being applied. SQLite's single
/// writer makes row locks unnecessary: the PostgreSQL ledger (`PostgresStockLedger`) keeps the
/// same names and decisions, and adds its locks.
enum SQLiteStockLedger {
    typealias HoldOutcome = StockLedger.HoldOutcome
    typealias SaleOutcome = StockLedger.SaleOutcome

    /// Units of `sku` an order may take for `checkout`: on hand minus what live holds of other
    /// orders promise; nil when the SKU is unknown. A hold of `checkout` itself is always the
    /// order's own (checkout ids are unique), even one stored before orders had a storefront.
    static func availableToOrder(_ db: Database, sku: String, order: OrderKey, checkout: CheckoutID, now: SQLTime) throws -> Int64? {
        let available = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT product.on_hand - COALESCE((SELECT SUM(quantity) FROM hold
                        WHERE hold.sku = product.sku AND (hold.storefront != ? OR hold.order_id != ?) AND hold.checkout_id != ?
                          AND hold.expires_at > ?), 0) AS available
                    FROM product WHERE sku = ?
                    """), arguments: [order.storefront, order.id, checkout.rawValue, now, sku])
        return available
    }

    static func isClosed(_ db: Database, checkout: CheckoutID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM closed_checkout WHERE checkout_id = ?"), arguments: [checkout.rawValue])
            ?? false
    }

    static func isSold(_ db: Database, order: OrderKey) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM sale WHERE storefront = ? AND order_id = ?"), arguments: [order.storefront, order.id])
            ?? false
    }

    /// Holds every line of a new checkout until `expiresAt`, or nothing when any line is short.
    /// An order has one live checkout: the holds of its earlier checkouts go.
    static func placeHolds(_ db: Database, order: OrderSnapshot, checkout: CheckoutID, expiresAt: Date, now: SQLTime) throws -> HoldOutcome
    {
        let key = OrderKey(order)
        if try isSold(db, order: key) || isClosed(db, checkout: checkout) { return .closed }
        guard expiresAt > now.date else { return .lapsed }
        try db.cachedStatement(sql: "DELETE FROM hold WHERE storefront = ? AND order_id = ? AND checkout_id != ?")
            .execute(arguments: [key.storefront, key.id, checkout.rawValue])
        let wanted = StockLedger.demand(order.lineItems)
        for (sku, quantity) in wanted {
            guard let available = try availableToOrder(db, sku: sku, order: key, checkout: checkout, now: now), available >= quantity else {
                return .notHeld
            }
        }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO hold (checkout_id, storefront, order_id, sku, quantity, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(checkout_id, sku) DO UPDATE SET quantity = excluded.quantity, expires_at = excluded.expires_at
                """)
        for (sku, quantity) in wanted {
            try insert.execute(arguments: [checkout.rawValue, key.storefront, key.id, sku, quantity, expiresAt])
        }
        return .held
    }

    /// Gives back a checkout's holds and remembers it closed.
    static func release(_ db: Database, order: OrderKey, checkout: CheckoutID, outcome: String, now: SQLTime) throws {
        try db.cachedStatement(sql: "DELETE FROM hold WHERE checkout_id = ?").execute(arguments: [checkout.rawValue])
        try close(db, order: order, checkout: checkout, outcome: outcome, now: now)
    }

    static func close(_ db: Database, order: OrderKey, checkout: CheckoutID, outcome: String, now: SQLTime) throws {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO closed_checkout (checkout_id, storefront, order_id, outcome, closed_at) VALUES (?, ?, ?, ?, ?)"
        )
        .execute(arguments: [checkout.rawValue, order.storefront, order.id, outcome, now])
    }

    /// Sells every line of a paid order from its holds or, where they lapsed, from free stock;
    /// when any line cannot be covered, takes nothing and records the shortfall. Either way the
    /// order's holds go and the sale row records the decision.
    static func sell(_ db: Database, order: OrderSnapshot, checkout: CheckoutID, paymentID: String, now: SQLTime) throws -> SaleOutcome {
        let key = OrderKey(order)
        if try isSold(db, order: key) { return .alreadySold }
        let wanted = StockLedger.demand(order.lineItems)
        var available: [String: Int64] = [:]
        for (sku, _) in wanted {
            available[sku] = try availableToOrder(db, sku: sku, order: key, checkout: checkout, now: now)
        }
        let shortfall = StockLedger.shortfall(wanted, available: available)
        if shortfall.isEmpty {
            let take = try db.cachedStatement(sql: "UPDATE product SET on_hand = on_hand - ?, updated_at = ? WHERE sku = ?")
            for (sku, quantity) in wanted { try take.execute(arguments: [quantity, now, sku]) }
        }
        try db.cachedStatement(sql: "DELETE FROM hold WHERE (storefront = ? AND order_id = ?) OR checkout_id = ?")
            .execute(arguments: [key.storefront, key.id, checkout.rawValue])
        try close(db, order: key, checkout: checkout, outcome: "paid", now: now)
        let status = shortfall.isEmpty ? "confirmed" : "backordered"
        try db.cachedStatement(
            sql: """
                INSERT INTO sale (storefront, order_id, checkout_id, payment_id, status, amount, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [key.storefront, key.id, checkout.rawValue, paymentID, status, order.amount, order.currency.code, now])
        let line = try db.cachedStatement(
            sql: "INSERT INTO sale_line (storefront, order_id, sku, quantity, shortfall) VALUES (?, ?, ?, ?, ?)")
        for (sku, quantity) in wanted {
            let short = shortfall.first { $0.sku == sku }.map { $0.quantity - $0.available } ?? 0
            try line.execute(arguments: [key.storefront, key.id, sku, quantity, short])
        }
        return shortfall.isEmpty ? .confirmed : .backordered(shortfall)
    }

    /// Deletes holds that lapsed (they already count for nothing); returns how many went.
    static func sweepExpiredHolds(_ db: Database, now: SQLTime) throws -> Int {
        try db.cachedStatement(sql: "DELETE FROM hold WHERE expires_at <= ?").execute(arguments: [now])
        return db.changesCount
    }
}
