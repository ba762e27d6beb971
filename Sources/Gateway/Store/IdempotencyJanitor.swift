import Foundation
import Logging
import ServiceLifecycle

/// Deletes idempotency answers past their 24 hours, so the table holds one day of keys and not
/// the gateway's whole history. Expired keys are already ignored when read; this only frees
/// the space.
struct IdempotencyJanitor: Service {
    let store: IdempotencyStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let removed = try await store.purgeExpired(now: Date())
                if removed > 0 { logger.debug("expired idempotency keys removed", metadata: ["count": "\(removed)"]) }
            } catch {
                logger.warning("idempotency keys could not be purged", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
