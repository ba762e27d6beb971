import Foundation
import GRDB

/// What housekeeping reads for its gauges, in one snapshot.
struct HousekeepingCounts: Sendable, Hashable {
    /// Holds that lapsed but are still stored (they already count for nothing).
    var expiredHolds: Int
    /// Holds that still promise units to an open checkout.
    var liveHolds: Int
    /// Emails neither sent nor failed for good.
    var emailBacklog: Int
}

/// Reads and tidying for the periodic housekeeping and for `/readyz`.
extension FulfillmentStore {
    /// The hold and email-backlog counts at `now`, from one read transaction.
    func housekeepingCounts(at now: Date) async throws -> HousekeepingCounts {
        try await pool.read { db in
            HousekeepingCounts(
                expiredHolds: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hold WHERE expires_at <= ?", arguments: [now]) ?? 0,
                liveHolds: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hold WHERE expires_at > ?", arguments: [now]) ?? 0,
                emailBacklog: try NotificationRecord.unsettled.fetchCount(db)
            )
        }
    }

    /// Deletes the holds that lapsed by `now`; returns how many went. Tidying only: a lapsed
    /// hold already counts for nothing, so this changes no stock a checkout can take.
    func releaseExpiredHolds(at now: Date) async throws -> Int {
        try await pool.write { db in try StockLedger.sweepExpiredHolds(db, now: SQLTime(now)) }
    }

    /// Whether the database answers a query (for `/readyz`).
    func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) != nil
    }
}
