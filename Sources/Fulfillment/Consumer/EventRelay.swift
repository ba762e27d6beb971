import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// Carries the worker's own events (`order.confirmed`, `order.backordered`) from the
/// `event_outbox` table to the `fulfillment.events` exchange, marking a row published only after
/// the broker's confirm. Rows are claimed for a lease, so relays of several worker replicas
/// never publish the same row at once, and a relay that dies leaves its rows to the others. The rows were written with the sale, so no decision is ever announced
/// without having been committed, nor committed without being announced.
///
/// Publishes are not mandatory: `fulfillment.events` is a broadcast for whichever teams bind a
/// queue to it, and an event nobody listens for yet is not an error.
final class EventRelay: Service, Sendable {
    let store: FulfillmentStore
    let logger: Logger
    let batchSize = 256
    let broker: BrokerLink
    let loop: ServiceLoop

    init(store: FulfillmentStore, amqp: AMQPConfiguration, signal: WakeSignal, logger: Logger) {
        self.store = store
        self.logger = logger
        broker = BrokerLink(amqp: amqp, logger: logger, unreachable: "event relay cannot reach the broker; events wait", level: .debug)
        loop = ServiceLoop(wake: signal, backoff: Backoff(base: .milliseconds(200), cap: .seconds(5)))
    }

    func run() async throws {
        await loop.run(logger: logger, failure: "event relay failed to read or mark rows") { try await self.round() }
        await broker.close()
    }

    private func round() async throws -> ServiceLoop.Round {
        let rows = try await store.claimUnpublishedEvents(limit: batchSize)
        guard !rows.isEmpty else { return .idle(timeout: .seconds(1)) }
        guard let connection = await broker.connected() else {
            try await store.releaseEvents(rows.map(\.sequence))
            return .failed
        }
        let outcomes = await connection.publish(rows.map(Self.message(for:)))
        let acked = zip(rows, outcomes).filter { $0.1.isAcked }.map(\.0.sequence)
        try await store.markEventsPublished(acked, at: Date())
        // What the broker did not confirm goes back, to be published again (by any replica).
        try await store.releaseEvents(zip(rows, outcomes).filter { !$0.1.isAcked }.map(\.0.sequence))
        guard acked.count == rows.count else {
            logger.debug("worker event publish not confirmed; will retry", metadata: ["waiting": "\(rows.count - acked.count)"])
            return .failed
        }
        return .worked
    }

    private static func message(for row: EventOutboxRecord) -> OutboundMessage {
        OutboundMessage(
            exchange: PaymentsTopology.fulfillmentEventsExchange, routingKey: row.type, body: row.body,
            properties: BasicProperties(
                contentType: EventContract.contentType, deliveryMode: .persistent, messageID: row.eventID,
                timestamp: row.createdAt, type: row.type, appID: EventContract.workerSource),
            mandatory: false
        )
    }
}
