import Foundation
import GRDB

/// Reads and tidying for the periodic housekeeping and for `/readyz`.
extension SQLiteFulfillmentStore {
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

    /// Tidying only: a lapsed hold already counts for nothing, so this changes no stock a
    /// checkout can take.
    func releaseExpiredHolds(at now: Date) async throws -> Int {
        try await pool.write { db in try SQLiteStockLedger.sweepExpiredHolds(db, now: SQLTime(now)) }
    }

    func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) != nil
    }
}
