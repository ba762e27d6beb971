import AMQP
import Foundation
import GRDB
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// Carries the worker's own events (`order.confirmed`, `order.backordered`) from the
/// `event_outbox` table to the `fulfillment.events` exchange, marking a row published only after
/// the broker's confirm. The rows were written with the sale, so no decision is ever announced
/// without having been committed, nor committed without being announced.
///
/// Publishes are not mandatory: `fulfillment.events` is a broadcast for whichever teams bind a
/// queue to it, and an event nobody listens for yet is not an error.
final class EventRelay: Service, Sendable {
    let database: FulfillmentDatabase
    let logger: Logger
    let batchSize = 256
    let broker: BrokerLink
    let loop: ServiceLoop

    init(database: FulfillmentDatabase, amqp: AMQPConfiguration, signal: WakeSignal, logger: Logger) {
        self.database = database
        self.logger = logger
        broker = BrokerLink(amqp: amqp, logger: logger, unreachable: "event relay cannot reach the broker; events wait", level: .debug)
        loop = ServiceLoop(wake: signal, backoff: Backoff(base: .milliseconds(200), cap: .seconds(5)))
    }

    func run() async throws {
        await loop.run(logger: logger, failure: "event relay failed to read or mark rows") { try await self.round() }
        await broker.close()
    }

    private struct OutboxRow: Sendable, FetchableRecord, Decodable {
        var sequence: Int64
        var eventId: String
        var type: String
        var body: Data
        var createdAt: Date

        enum CodingKeys: String, CodingKey {
            case sequence, type, body
            case eventId = "event_id"
            case createdAt = "created_at"
        }
    }

    private func round() async throws -> ServiceLoop.Round {
        let rows = try await database.pool.read { [batchSize] db in
            try OutboxRow.fetchAll(db, sql: "SELECT * FROM event_outbox WHERE published_at IS NULL ORDER BY sequence LIMIT ?", arguments: [batchSize])
        }
        guard !rows.isEmpty else { return .idle(timeout: .seconds(1)) }
        guard let connection = await broker.connected() else { return .failed }
        let outcomes = await connection.publish(rows.map(Self.message(for:)))
        let acked = zip(rows, outcomes).filter { $0.1.isAcked }.map(\.0.sequence)
        if !acked.isEmpty {
            let now = Date()
            let arguments: StatementArguments = [now] + StatementArguments(acked)
            try await database.pool.write { db in
                try db.execute(sql: "UPDATE event_outbox SET published_at = ? WHERE sequence IN (\(acked.map { _ in "?" }.joined(separator: ",")))",
                               arguments: arguments)
            }
        }
        guard acked.count == rows.count else {
            logger.debug("worker event publish not confirmed; will retry", metadata: ["waiting": "\(rows.count - acked.count)"])
            return .failed
        }
        return .worked
    }

    private static func message(for row: OutboxRow) -> OutboundMessage {
        OutboundMessage(
            exchange: PaymentsTopology.fulfillmentEventsExchange, routingKey: row.type, body: row.body,
            properties: BasicProperties(contentType: EventContract.contentType, deliveryMode: .persistent, messageID: row.eventId,
                                        timestamp: row.createdAt, type: row.type, appID: EventContract.workerSource),
            mandatory: false
        )
    }
}
