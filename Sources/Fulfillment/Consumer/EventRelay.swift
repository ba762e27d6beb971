import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import Synchronization

/// Carries the worker's own events (`order.confirmed`, `order.backordered`) from the
/// `event_outbox` table to the `fulfillment.events` exchange, marking a row published only after
/// the broker's confirm. The rows were written with the sale, so no decision is ever announced
/// without having been committed, nor committed without being announced.
///
/// Publishes are not mandatory: `fulfillment.events` is a broadcast for whichever teams bind a
/// queue to it, and an event nobody listens for yet is not an error.
final class EventRelay: Service, Sendable {
    let store: FulfillmentStore
    let amqp: AMQPConfiguration
    let signal: WakeSignal
    let logger: Logger
    let batchSize = 256
    let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))

    private let connection = Mutex<AMQPConnection?>(nil)
    private let stopping = Mutex(false)

    init(store: FulfillmentStore, amqp: AMQPConfiguration, signal: WakeSignal, logger: Logger) {
        self.store = store
        self.amqp = amqp
        self.signal = signal
        self.logger = logger
    }

    private var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
            self.signal.notify()
        }
        if let open = connection.withLock({ connection in defer { connection = nil }; return connection }) {
            await open.close()
        }
    }

    private func loop() async {
        var failures = 0
        while !isStopping {
            do {
                let rows = try await store.nextUnpublishedEvents(limit: batchSize)
                guard !rows.isEmpty else {
                    failures = 0
                    await signal.wait(timeout: .seconds(1))
                    continue
                }
                guard let connection = await connected() else {
                    failures += 1
                    await signal.wait(timeout: backoff.delay(attempt: failures))
                    continue
                }
                let outcomes = await connection.publish(rows.map(Self.message(for:)))
                let acked = zip(rows, outcomes).filter { $0.1.isAcked }.map(\.0.sequence)
                if !acked.isEmpty {
                    try await store.markEventsPublished(acked, at: Date())
                }
                if acked.count < rows.count {
                    failures += 1
                    logger.debug("worker event publish not confirmed; will retry", metadata: ["waiting": "\(rows.count - acked.count)"])
                    await signal.wait(timeout: backoff.delay(attempt: failures))
                } else {
                    failures = 0
                }
            } catch {
                failures += 1
                logger.error("event relay failed to read or mark rows", metadata: ["error": "\(error)"])
                await signal.wait(timeout: backoff.delay(attempt: failures))
            }
        }
    }

    private static func message(for row: EventOutboxRecord) -> OutboundMessage {
        OutboundMessage(
            exchange: PaymentsTopology.fulfillmentEventsExchange, routingKey: row.type, body: row.body,
            properties: BasicProperties(contentType: EventContract.contentType, deliveryMode: .persistent, messageID: row.eventId,
                                        timestamp: row.createdAt, type: row.type, appID: EventContract.workerSource),
            mandatory: false
        )
    }

    private func connected() async -> AMQPConnection? {
        if let existing = connection.withLock({ $0 }) { return existing }
        do {
            let made = try await AMQPConnection.connect(amqp, logger: logger)
            connection.withLock { $0 = made }
            return made
        } catch {
            logger.debug("event relay cannot reach the broker; events wait", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
