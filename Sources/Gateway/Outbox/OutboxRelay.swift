import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Carries outbox rows to `payments.events` (docs/architecture.md rule 5).
///
/// A row is marked published only after the broker acknowledged it: publishes are persistent,
/// mandatory and confirmed, and a returned (unroutable) message counts as a failure. While the
/// broker is down rows simply wait. Each batch holds at most one row per order (the oldest
/// unpublished one), so a failure can never let an order's later event overtake an earlier one;
/// a batch goes out in sequence order, so events also leave in the order they were written.
/// The relay wakes when a commit adds rows, and also every `idleWait` for rows written by another
/// process (the `events replay` command, another replica).
///
/// With several gateway replicas, one relay publishes at a time: the one holding the
/// `outbox_relay` lease. The others keep their broker connection (for `/readyz`) and take over
/// within seconds of the holder's end.
final class OutboxRelay: Service, Sendable {
    let store: GatewayStore
    let lease: Lease
    let metrics: GatewayMetrics
    let logger: Logger
    let batchSize: Int
    let idleWait: Duration
    let broker: BrokerLink
    let loop: ServiceLoop

    private let gaugesUpdatedAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Connection attempts made so far (for tests and diagnostics).
    var connectionAttempts: Int { broker.connectionAttempts }

    init(
        store: GatewayStore, lease: Lease, amqp: AMQPConfiguration, signal: WakeSignal, metrics: GatewayMetrics, logger: Logger,
        batchSize: Int = 512, idleWait: Duration = .seconds(1)
    ) {
        self.store = store
        self.lease = lease
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
        self.idleWait = idleWait
        broker = BrokerLink(amqp: amqp, logger: logger, unreachable: "broker unreachable; outbox rows wait")
        loop = ServiceLoop(wake: signal, backoff: Backoff(base: .milliseconds(100), cap: .seconds(5)))
    }

    /// Whether the relay holds a live broker connection (for `/readyz`).
    var isBrokerConnected: Bool { broker.isConnected }

    func run() async throws {
        await loop.run(logger: logger, failure: "outbox relay failed to read or mark rows") { try await self.round() }
        await lease.release()
        await broker.close()
    }

    private func round() async throws -> ServiceLoop.Round {
        // Connected first, idle or not: the topology is declared at start and /readyz tells the
        // truth about the broker before the first event.
        guard let connection = await broker.connected() else {
            await updateGauges()
            return .failed
        }
        guard await lease.isHeld() else {
            await updateGauges()
            return .idle(timeout: lease.renewEvery)
        }
        let rows = try await store.claimOutboxBatch(limit: batchSize)
        await updateGauges()
        guard !rows.isEmpty else { return .idle(timeout: idleWait) }
        // Reading the batch may have waited long for a busy database, long enough for the lease
        // to lapse and another replica to take it: asked again (when the last answer is older
        // than a renewal period) before anything is published.
        guard await lease.isHeld() else { return .idle(timeout: lease.renewEvery) }
        return try await publish(rows, on: connection) ? .failed : .worked
    }

    /// Publishes `rows` as one ordered batch (pipelined within the client's window) and records
    /// each outcome; returns whether any failed.
    private func publish(_ rows: [OutboxRecord], on connection: AMQPConnection) async throws -> Bool {
        let started = ContinuousClock.now
        let results = await connection.publish(rows.map(Self.message(for:)))
        let elapsed = ContinuousClock.now - started
        for result in results { metrics.publishFinished(outcome: Self.label(result), duration: elapsed) }
        let outcomes = zip(rows.map { $0.sequence ?? 0 }, results).map { ($0, $1) }
        let acked = outcomes.filter { $0.1.isAcked }.map(\.0)
        let failed = outcomes.filter { !$0.1.isAcked }
        let now = Date()
        try await store.markOutbox(published: acked, failed: failed.map(\.0), now: now)
        for (sequence, outcome) in failed.prefix(3) {
            if case .returned(let code, let text) = outcome {
                logger.error(
                    "event was unroutable: no queue is bound for it",
                    metadata: ["sequence": "\(sequence)", "reply_code": "\(code)", "reply_text": "\(text)"])
            } else {
                logger.debug("event publish not confirmed; will retry", metadata: ["sequence": "\(sequence)", "outcome": "\(outcome)"])
            }
        }
        return !failed.isEmpty
    }

    static func message(for row: OutboxRecord) -> OutboundMessage {
        let values = EventMessageProperties(
            id: row.eventID, type: row.type, time: row.createdAt, source: EventContract.gatewaySource, traceparent: row.traceparent)
        let properties = BasicProperties(
            contentType: values.contentType,
            headers: FieldTable(uniqueKeysWithValues: values.headers.map { ($0.key, FieldValue.string($0.value)) }),
            deliveryMode: .persistent,
            messageID: values.messageID,
            timestamp: Date(timeIntervalSince1970: TimeInterval(values.timestamp)),
            type: values.type,
            appID: values.appID
        )
        return OutboundMessage(
            exchange: PaymentsTopology.paymentsExchange, routingKey: values.routingKey, body: row.body, properties: properties,
            mandatory: true)
    }

    static func label(_ outcome: PublishOutcome) -> String {
        switch outcome {
        case .acked: "acked"
        case .nacked: "nacked"
        case .returned: "returned"
        case .connectionLost: "connection_lost"
        case .invalid: "invalid"
        }
    }

    /// Refreshes the outbox gauges at most once a second, from the waiting rows only (an index
    /// scan), not the whole history the `outbox status` command reports.
    private func updateGauges() async {
        let now = ContinuousClock.now
        guard
            gaugesUpdatedAt.withLock({ last in
                if let previous = last, now - previous < .seconds(1) { return false }
                last = now
                return true
            })
        else { return }
        if let waiting = try? await store.outboxWaiting(now: Date()) {
            metrics.outbox(depth: waiting.depth, oldestAgeSeconds: waiting.oldestAgeSeconds)
        }
    }
}
