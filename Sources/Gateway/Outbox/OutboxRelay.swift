import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import Synchronization

/// Carries outbox rows to `payments.events` (docs/architecture.md rule 5).
///
/// A row is marked published only after the broker acknowledged it: publishes are persistent,
/// mandatory and confirmed, and a returned (unroutable) message counts as a failure. While the
/// broker is down rows simply wait. Each batch holds at most one row per order (the oldest
/// unpublished one), so a failure can never let an order's later event overtake an earlier one;
/// a batch goes out in sequence order, so events also leave in the order they were written.
/// The relay wakes when a commit adds rows, and also every `idleWait` for rows written by another
/// process (the `events replay` command).
final class OutboxRelay: Service, Sendable {
    let database: GatewayStore
    let amqp: AMQPConfiguration
    let signal: WakeSignal
    let metrics: GatewayMetrics
    let logger: Logger
    let batchSize: Int
    let idleWait: Duration
    let retryBackoff = Backoff(base: .milliseconds(100), cap: .seconds(5))

    private let connection = Mutex<AMQPConnection?>(nil)
    private let stopping = Mutex(false)
    private let attempts = Mutex(0)
    private let gaugesUpdatedAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Connection attempts made so far (for tests and diagnostics).
    var connectionAttempts: Int { attempts.withLock { $0 } }

    init(database: GatewayStore, amqp: AMQPConfiguration, signal: WakeSignal, metrics: GatewayMetrics, logger: Logger,
         batchSize: Int = 512, idleWait: Duration = .seconds(1)) {
        self.database = database
        self.amqp = amqp
        self.signal = signal
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
        self.idleWait = idleWait
    }

    /// Whether the relay holds a live broker connection (for `/readyz`).
    var isBrokerConnected: Bool {
        connection.withLock { $0?.isConnected ?? false }
    }

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

    private var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    private func loop() async {
        var failures = 0
        while !isStopping {
            do {
                // Connected first, idle or not: the topology is declared at start and /readyz
                // tells the truth about the broker before the first event.
                guard let connection = await connected() else {
                    failures += 1
                    await updateGauges()
                    await pause(retryBackoff.delay(attempt: failures))
                    continue
                }
                let rows = try await database.claimOutboxBatch(limit: batchSize)
                await updateGauges()
                guard !rows.isEmpty else {
                    failures = 0
                    await signal.wait(timeout: idleWait)
                    continue
                }
                let failed = try await publish(rows, on: connection)
                failures = failed ? failures + 1 : 0
                if failed { await pause(retryBackoff.delay(attempt: failures)) }
            } catch {
                failures += 1
                logger.error("outbox relay failed to read or mark rows", metadata: ["error": "\(error)"])
                await pause(retryBackoff.delay(attempt: failures))
            }
        }
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
        try await database.markOutbox(published: acked, failed: failed.map(\.0), now: now)
        for (sequence, outcome) in failed.prefix(3) {
            if case .returned(let code, let text) = outcome {
                logger.error("event was unroutable: no queue is bound for it", metadata: ["sequence": "\(sequence)", "reply_code": "\(code)", "reply_text": "\(text)"])
            } else {
                logger.debug("event publish not confirmed; will retry", metadata: ["sequence": "\(sequence)", "outcome": "\(outcome)"])
            }
        }
        return !failed.isEmpty
    }

    static func message(for row: OutboxRecord) -> OutboundMessage {
        let values = EventMessageProperties(id: row.eventId, type: row.type, time: row.createdAt, source: EventContract.gatewaySource, traceparent: row.traceparent)
        let properties = BasicProperties(
            contentType: values.contentType,
            headers: FieldTable(uniqueKeysWithValues: values.headers.map { ($0.key, FieldValue.string($0.value)) }),
            deliveryMode: .persistent,
            messageID: values.messageID,
            timestamp: Date(timeIntervalSince1970: TimeInterval(values.timestamp)),
            type: values.type,
            appID: values.appID
        )
        return OutboundMessage(exchange: PaymentsTopology.paymentsExchange, routingKey: values.routingKey, body: row.body, properties: properties, mandatory: true)
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

    /// The live connection, connecting (and declaring the topology) when there is none.
    private func connected() async -> AMQPConnection? {
        if let existing = connection.withLock({ $0 }) { return existing }
        attempts.withLock { $0 += 1 }
        do {
            let made = try await AMQPConnection.connect(amqp, logger: logger)
            connection.withLock { $0 = made }
            logger.debug("outbox relay connected to the broker")
            return made
        } catch {
            logger.warning("broker unreachable; outbox rows wait", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Refreshes the outbox gauges at most once a second, from the waiting rows only (an index
    /// scan), not the whole history the `outbox status` command reports.
    private func updateGauges() async {
        let now = ContinuousClock.now
        guard gaugesUpdatedAt.withLock({ last in
            if let previous = last, now - previous < .seconds(1) { return false }
            last = now
            return true
        }) else { return }
        if let waiting = try? await database.outboxWaiting(now: Date()) {
            metrics.outbox(depth: waiting.depth, oldestAgeSeconds: waiting.oldestAgeSeconds)
        }
    }

    /// Sleeps through a backoff, returning early only when shutdown begins: new rows must not
    /// cut it short, or a broker outage would turn every checkout into a reconnection attempt.
    private func pause(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !isStopping, ContinuousClock.now < deadline {
            await signal.wait(timeout: deadline - ContinuousClock.now)
        }
    }
}
