import Foundation
import Logging
import ServiceLifecycle

/// Deletes idempotency answers past their 24 hours, so the table holds one day of keys and not
/// the gateway's whole history. Expired keys are already ignored when read; this only frees
/// the space. The customer choice of a request that never completed goes with its key. With
/// several replicas, the one holding the `idempotency_janitor` lease does it.
struct IdempotencyJanitor: Service {
    let idempotency: IdempotencyStore
    let store: GatewayStore
    let lease: Lease
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await lease.isHeld() {
                await purge()
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await lease.release()
    }

    private func purge() async {
        do {
            let now = Date()
            let removed = try await idempotency.purgeExpired(now: now)
            if removed > 0 { logger.debug("expired idempotency keys removed", metadata: ["count": "\(removed)"]) }
            let choices = try await store.pruneCustomerChoices(createdBefore: now.addingTimeInterval(-idempotency.lifetime))
            if choices > 0 { logger.debug("abandoned customer choices removed", metadata: ["count": "\(choices)"]) }
        } catch {
            logger.warning("idempotency keys could not be purged", metadata: ["error": "\(error)"])
        }
    }
}
