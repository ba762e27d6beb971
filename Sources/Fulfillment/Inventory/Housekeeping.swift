import Foundation
import Logging
import ServiceLifecycle

/// Every `interval`: deletes holds that lapsed (they already count for nothing, so this is
/// tidying, not the release itself) and refreshes the hold and email-backlog gauges.
struct Housekeeping: Service {
    let store: FulfillmentStore
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
            let counts = try await store.housekeepingCounts(at: now)
            metrics.holds(counts.liveHolds)
            metrics.notificationBacklog(counts.emailBacklog)
            if counts.expiredHolds > 0 {
                let swept = try await store.releaseExpiredHolds(at: now)
                logger.debug("lapsed holds swept", metadata: ["count": "\(swept)"])
            }
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
