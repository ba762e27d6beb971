import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// Every `interval`: deletes holds that lapsed (they already count for nothing, so this is
/// tidying, not the release itself) and refreshes the hold and email-backlog gauges.
struct Housekeeping: Service {
    let database: FulfillmentStore
    let metrics: WorkerMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await tick()
            try? await Task.sleep(for: interval)
        }
    }

    func tick() async {
        do {
            let now = Date()
            let (expired, live, backlog) = try await database.pool.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hold WHERE expires_at <= ?", arguments: [now]) ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hold WHERE expires_at > ?", arguments: [now]) ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notification WHERE sent_at IS NULL AND failed_at IS NULL") ?? 0
                )
            }
            metrics.holds(live)
            metrics.notificationBacklog(backlog)
            if expired > 0 {
                let swept = try await database.pool.write { db in try StockLedger.sweepExpiredHolds(db, now: SQLTime(now)) }
                logger.debug("lapsed holds swept", metadata: ["count": "\(swept)"])
            }
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
