import Foundation
import PaymentsCore

/// The stock rules of docs/architecture.md rule 7 that do not depend on the engine: what an
/// order wants, and the names of the decisions. Each engine writes its own statements for them
/// (`SQLiteStockLedger`, `PostgresStockLedger`), keeping these names and the same decisions.
///
/// Stock is `on_hand`; a hold promises units to one checkout until it lapses; what a checkout can
/// take is `on_hand` minus the live holds of *other* orders. Both holding and selling are all
/// lines or none, and `on_hand` never goes below zero (the table also refuses it).
enum StockLedger {
    /// The quantity wanted per SKU, lines of the same SKU added up, in SKU order (the order in
    /// which concurrent writers lock stock rows, so that two of them never deadlock).
    static func demand(_ lines: [LineItem]) -> [(sku: String, quantity: Int64)] {
        var totals: [String: Int64] = [:]
        for line in lines { totals[line.sku, default: 0] += line.quantity }
        return totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The lines `available` cannot cover (nil for an unknown SKU counts as none available).
    static func shortfall(_ wanted: [(sku: String, quantity: Int64)], available: [String: Int64]) -> [OrderFulfillment.Shortfall] {
        wanted.compactMap { sku, quantity in
            let available = available[sku] ?? 0
            return available < quantity ? .init(sku: sku, quantity: quantity, available: max(0, available)) : nil
        }
    }

    enum HoldOutcome: String {
        case held
        case notHeld = "not_held"
        case lapsed
        case closed
    }

    enum SaleOutcome: Equatable {
        case confirmed
        case backordered([OrderFulfillment.Shortfall])
        /// The order was sold (or backordered) before: nothing changes.
        case alreadySold
    }
}
