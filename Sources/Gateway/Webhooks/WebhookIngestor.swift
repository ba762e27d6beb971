import Foundation
import Logging
import Synchronization

/// Takes events in with group commit: every event that arrives while a transaction is being
/// written waits for the next one, so many concurrent webhooks share one transaction and one
/// fsync. Each caller still returns only after the transaction holding its event committed.
///
/// Each event is applied inside its own savepoint: one that fails (a bug, a constraint) is rolled
/// back alone and its caller gets the error (Fintoc will redeliver), while the rest of the group
/// commits.
final class WebhookIngestor: Sendable {
    typealias Completion = CheckedContinuation<IngestOutcome, any Error>

    private struct Queue {
        var waiting: [(IngestItem, Completion)] = []
        var draining = false
    }

    private let store: GatewayStore
    private let queue = Mutex(Queue())
    /// Most events in one transaction: bounds how long the writer is held.
    let maxGroup: Int
    /// Called after a commit that wrote domain events (wakes the outbox relay).
    private let committed: @Sendable (_ events: Int) -> Void
    private let logger: Logger

    init(store: GatewayStore, maxGroup: Int = 256, committed: @escaping @Sendable (_ events: Int) -> Void, logger: Logger) {
        self.store = store
        self.maxGroup = maxGroup
        self.committed = committed
        self.logger = logger
    }

    /// Applies `item` and returns once it is durable.
    func ingest(_ item: IngestItem) async throws -> IngestOutcome {
        var item = item
        if item.plan == nil {
            // Worked out on the reader pool, concurrently with other requests; the writer only
            // checks it is still current (else works it out again) and writes.
            // A redelivery is not worked out at all: the writer answers it as a duplicate.
            item.plan = try? await store.prepareIngest(item)
        }
        let prepared = item
        return try await withCheckedThrowingContinuation { (continuation: Completion) in
            let startDrain = queue.withLock { queue in
                queue.waiting.append((prepared, continuation))
                if queue.draining { return false }
                queue.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let group: [(IngestItem, Completion)] = queue.withLock { queue in
                guard !queue.waiting.isEmpty else {
                    queue.draining = false
                    return []
                }
                let count = min(maxGroup, queue.waiting.count)
                let group = Array(queue.waiting.prefix(count))
                queue.waiting.removeFirst(count)
                return group
            }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    private func commit(_ group: [(IngestItem, Completion)]) async {
        let items = group.map(\.0)
        do {
            let results = try await store.ingest(items)
            var events = 0
            for ((item, completion), result) in zip(group, results) {
                if case .success(.recorded(_, _, let count, _)) = result { events += count }
                if case .failure(let error) = result {
                    logger.error("webhook not applied", metadata: ["event_id": "\(item.event.id)", "error": "\(error)"])
                }
                completion.resume(with: result)
            }
            if events > 0 { committed(events) }
        } catch {
            // The transaction itself failed (disk full, I/O error): none of the group is stored.
            logger.error("webhook group not committed", metadata: ["events": "\(group.count)", "error": "\(error)"])
            for (_, completion) in group { completion.resume(throwing: error) }
        }
    }
}
