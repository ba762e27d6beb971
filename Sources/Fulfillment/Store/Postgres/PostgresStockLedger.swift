import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

/// The stock rules of `StockLedger` (docs/architecture.md rule 7) as PostgreSQL statements in
/// the caller's transaction: `SQLiteStockLedger`'s names and decisions. The locks that make them
/// safe with several workers were taken by the batch before (its orders, then its products'
/// rows, see `PostgresFulfillmentStore.apply`); a statement here reads what the last committed
/// writer of those rows left, as READ COMMITTED gives each statement a fresh snapshot.
struct PostgresStockLedger {
    let connection: PostgresConnection
    let now: Date
    let logger: Logger

    func isSold(_ order: OrderKey) async throws -> Bool {
        try await connection.count("SELECT 1 FROM sale WHERE storefront = \(order.storefront) AND order_id = \(order.id)", logger: logger)
            > 0
    }

    private func isClosed(_ checkout: CheckoutID) async throws -> Bool {
        try await connection.count("SELECT 1 FROM closed_checkout WHERE checkout_id = \(checkout.rawValue)", logger: logger) > 0
    }

    /// Units of each of `skus` the order may take for `checkout`: on hand minus what live holds
    /// of other orders promise. An unknown SKU is absent.
    private func available(_ skus: [String], order: OrderKey, checkout: CheckoutID) async throws -> [String: Int64] {
        var available: [String: Int64] = [:]
        let rows = try await connection.query(
            """
            SELECT product.sku, product.on_hand - COALESCE((SELECT SUM(quantity) FROM hold
                WHERE hold.sku = product.sku AND (hold.storefront <> \(order.storefront) OR hold.order_id <> \(order.id))
                  AND hold.checkout_id <> \(checkout.rawValue) AND hold.expires_at > \(now)), 0)::bigint
            FROM product WHERE product.sku = ANY(\(skus)::text[])
            """, logger: logger)
        for try await (sku, units) in rows.decode((String, Int64).self) { available[sku] = units }
        return available
    }

    /// Holds every line of a new checkout until `expiresAt`, or nothing when any line is short.
    /// An order has one live checkout: the holds of its earlier checkouts go.
    func placeHolds(order: OrderSnapshot, checkout: CheckoutID, expiresAt: Date) async throws -> StockLedger.HoldOutcome {
        let key = OrderKey(order)
        if try await isSold(key) { return .closed }
        if try await isClosed(checkout) { return .closed }
        guard expiresAt > now else { return .lapsed }
        try await connection.execute(
            "DELETE FROM hold WHERE storefront = \(key.storefront) AND order_id = \(key.id) AND checkout_id <> \(checkout.rawValue)",
            logger: logger)
        let wanted = StockLedger.demand(order.lineItems)
        let available = try await available(wanted.map(\.sku), order: key, checkout: checkout)
        guard StockLedger.shortfall(wanted, available: available).isEmpty else { return .notHeld }
        try await connection.execute(
            """
            INSERT INTO hold (checkout_id, storefront, order_id, sku, quantity, expires_at)
            SELECT \(checkout.rawValue), \(key.storefront), \(key.id), sku, quantity, \(expiresAt)
            FROM unnest(\(wanted.map(\.sku))::text[], \(wanted.map(\.quantity))::bigint[]) AS wanted(sku, quantity)
            ON CONFLICT (checkout_id, sku) DO UPDATE SET quantity = excluded.quantity, expires_at = excluded.expires_at
            """, logger: logger)
        return .held
    }

    /// Gives back a checkout's holds and remembers it closed.
    func release(order: OrderKey, checkout: CheckoutID, outcome: String) async throws {
        try await connection.execute("DELETE FROM hold WHERE checkout_id = \(checkout.rawValue)", logger: logger)
        try await close(order: order, checkout: checkout, outcome: outcome)
    }

    private func close(order: OrderKey, checkout: CheckoutID, outcome: String) async throws {
        try await connection.execute(
            """
            INSERT INTO closed_checkout (checkout_id, storefront, order_id, outcome, closed_at)
            VALUES (\(checkout.rawValue), \(order.storefront), \(order.id), \(outcome), \(now)) ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// Sells every line of a paid order from its holds or, where they lapsed, from free stock;
    /// when any line cannot be covered, takes nothing and records the shortfall. Either way the
    /// order's holds go and the sale row records the decision.
    func sell(order: OrderSnapshot, checkout: CheckoutID, paymentID: String) async throws -> StockLedger.SaleOutcome {
        let key = OrderKey(order)
        if try await isSold(key) { return .alreadySold }
        let wanted = StockLedger.demand(order.lineItems)
        let shortfall = StockLedger.shortfall(wanted, available: try await available(wanted.map(\.sku), order: key, checkout: checkout))
        if shortfall.isEmpty {
            try await connection.execute(
                """
                UPDATE product SET on_hand = product.on_hand - wanted.quantity, updated_at = \(now)
                FROM unnest(\(wanted.map(\.sku))::text[], \(wanted.map(\.quantity))::bigint[]) AS wanted(sku, quantity)
                WHERE product.sku = wanted.sku
                """, logger: logger)
        }
        try await connection.execute(
            "DELETE FROM hold WHERE (storefront = \(key.storefront) AND order_id = \(key.id)) OR checkout_id = \(checkout.rawValue)",
            logger: logger)
        try await close(order: key, checkout: checkout, outcome: "paid")
        let status = shortfall.isEmpty ? "confirmed" : "backordered"
        try await connection.execute(
            """
            INSERT INTO sale (storefront, order_id, checkout_id, payment_id, status, amount, currency, created_at)
            VALUES (\(key.storefront), \(key.id), \(checkout.rawValue), \(paymentID), \(status), \(order.amount), \(order.currency.code), \(now))
            """, logger: logger)
        let short = wanted.map { line in shortfall.first { $0.sku == line.sku }.map { $0.quantity - $0.available } ?? 0 }
        try await connection.execute(
            """
            INSERT INTO sale_line (storefront, order_id, sku, quantity, shortfall)
            SELECT \(key.storefront), \(key.id), sku, quantity, short
            FROM unnest(\(wanted.map(\.sku))::text[], \(wanted.map(\.quantity))::bigint[], \(short)::bigint[]) AS line(sku, quantity, short)
            """, logger: logger)
        return shortfall.isEmpty ? .confirmed : .backordered(shortfall)
    }
}
