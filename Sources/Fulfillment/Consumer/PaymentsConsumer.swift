import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Consumes `fulfillment.payments` and applies each message exactly once in effect
/// (docs/architecture.md rule 7).
///
/// Deliveries are taken in batches of whatever has arrived (up to the prefetch): each is checked
/// against its event type and version, then the whole batch is applied in one SQLite
/// transaction, each message in a savepoint of its own together with its processed-message row.
/// Acks go out only after the commit; a redelivered message finds its row and changes nothing.
/// A message that can never be applied is parked at once; one that failed for a passing reason
/// goes through the retry queues.
final class PaymentsConsumer: Service, Sendable {
    let store: FulfillmentStore
    let prefetch: Int
    let applier: EventApplier
    let router: FailureRouter
    let metrics: WorkerMetrics
    let emailsQueued: WakeSignal
    let eventsQueued: WakeSignal
    let logger: Logger
    let broker: BrokerLink
    let loop = ServiceLoop(backoff: Backoff(base: .milliseconds(200), cap: .seconds(5)))

    private let inbox = Mutex<DeliveryInbox?>(nil)

    init(
        store: FulfillmentStore, amqp: AMQPConfiguration, prefetch: Int, applier: EventApplier, router: FailureRouter,
        metrics: WorkerMetrics, emailsQueued: WakeSignal, eventsQueued: WakeSignal, logger: Logger
    ) {
        self.store = store
        self.prefetch = prefetch
        self.applier = applier
        self.router = router
        self.metrics = metrics
        self.emailsQueued = emailsQueued
        self.eventsQueued = eventsQueued
        self.logger = logger
        broker = BrokerLink(amqp: amqp, logger: logger, unreachable: "broker unreachable; the worker waits")
    }

    /// Whether the consumer holds a live broker connection (for `/readyz`).
    var isBrokerConnected: Bool { broker.isConnected }

    private var isStopping: Bool { loop.isStopping }

    func run() async throws {
        // On shutdown, stop taking messages: the processor finishes what is in hand, then cancels.
        await loop.run(
            logger: logger, failure: "the consumer failed; trying again",
            onShutdown: { self.inbox.withLock { $0 }?.finish() }
        ) { await self.round() }
        await broker.close()
    }

    /// Consumes until the consumer ends (the connection was lost) or shutdown begins.
    private func round() async -> ServiceLoop.Round {
        guard let connection = await broker.connected() else { return .failed }
        let consumer: Consumer
        do {
            consumer = try await connection.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: UInt16(prefetch))
        } catch {
            logger.warning("could not consume fulfillment.payments; trying again", metadata: ["error": "\(error)"])
            return .failed
        }
        await consume(consumer, on: connection)
        return .worked
    }

    /// Reads `consumer` into an inbox on one task and applies batches from it on this one until
    /// the consumer ends or shutdown begins; then settles what is in hand and cancels.
    private func consume(_ consumer: Consumer, on connection: AMQPConnection) async {
        let inbox = DeliveryInbox()
        self.inbox.withLock { $0 = inbox }
        if isStopping { inbox.finish() }
        let logger = logger
        let applier = applier
        let reader = Task {
            do {
                for try await delivery in consumer { inbox.push(InboundMessage(delivery, applier: applier)) }
            } catch {
                logger.warning("the broker cancelled the consumer", metadata: ["error": "\(error)"])
            }
            inbox.finish()
        }
        while let batch = await inbox.next(max: prefetch) {
            await process(batch, on: connection)
        }
        // Shutdown (or the consumer ended): whatever is already here is in hand too.
        let rest = inbox.takeAll()
        if !rest.isEmpty { await process(rest, on: connection) }
        await consumer.cancel()
        reader.cancel()
        _ = await reader.value
        self.inbox.withLock { $0 = nil }
        await loop.pause(.seconds(1))
    }

    private struct Applied: Sendable {
        var index: Int
        var outcome: ApplyOutcome
        var emailQueued: Bool
        var eventQueued: Bool
    }

    private struct Failed: Sendable {
        var index: Int
        var reason: String
    }

    /// Applies one batch (bodies already decoded and checked): one transaction, then acks,
    /// retries and parking.
    func process(_ messages: [InboundMessage], on connection: AMQPConnection) async {
        let started = ContinuousClock.now
        let batch = messages.map(\.delivery)
        var envelopes: [(index: Int, envelope: EventEnvelope, prepared: EventApplier.Prepared)] = []
        var poison: [Failed] = []
        for (index, message) in messages.enumerated() {
            switch message.envelope {
            case .success(let envelope): envelopes.append((index, envelope, message.prepared))
            case .failure(let error): poison.append(Failed(index: index, reason: "invalid message: \(error.description)"))
            }
        }

        var applied: [Applied] = []
        var failed: [Failed] = []
        if !envelopes.isEmpty {
            let toApply = envelopes
            let plans = toApply.map { applier.plan($0.envelope, prepared: $0.prepared) }
            do {
                let results = try await store.apply(plans)
                for (item, outcome) in zip(toApply, results) {
                    switch outcome {
                    case .success(let result):
                        applied.append(
                            Applied(
                                index: item.index, outcome: result.outcome, emailQueued: result.emailQueued, eventQueued: result.eventQueued
                            ))
                    case .failure(let error):
                        failed.append(Failed(index: item.index, reason: "\(error)"))
                    }
                }
            } catch {
                // The commit itself failed: nothing of the batch is stored.
                applied = []
                failed = toApply.map { Failed(index: $0.index, reason: "database: \(error)") }
            }
        }

        for item in applied {
            try? batch[item.index].ack()
        }
        let envelopeAt = Dictionary(envelopes.map { ($0.index, $0.envelope) }, uniquingKeysWith: { first, _ in first })
        let elapsed = ContinuousClock.now - started
        for item in applied {
            let envelope = envelopeAt[item.index]
            metrics.message(type: envelope?.type.rawValue ?? "unknown", outcome: item.outcome.rawValue, duration: elapsed)
            if item.outcome == .backordered { metrics.backordered() }
            if logger.logLevel <= .debug, let envelope {
                logger.debug(
                    "message applied",
                    metadata: [
                        "event_id": "\(envelope.id)", "order_id": "\(envelope.subject)", "type": "\(envelope.type.rawValue)",
                        "outcome": "\(item.outcome.rawValue)",
                    ])
            }
        }
        if applied.contains(where: \.emailQueued) { emailsQueued.notify() }
        if applied.contains(where: \.eventQueued) { eventsQueued.notify() }

        for item in failed {
            let route = await router.retry(batch[item.index], reason: item.reason, on: connection)
            record(route, type: envelopeAt[item.index]?.type.rawValue ?? "unknown", started: started)
        }
        for item in poison {
            let route = await router.park(batch[item.index], reason: item.reason, on: connection)
            record(route, type: Self.typeLabel(batch[item.index]), started: started)
        }
    }

    private func record(_ route: FailureRouter.Route?, type: String, started: ContinuousClock.Instant) {
        switch route {
        case .retried?: metrics.retried()
        case .parked?: metrics.parked()
        case nil: break
        }
        metrics.message(type: type, outcome: route?.rawValue ?? "requeued", duration: ContinuousClock.now - started)
    }

    /// The event type for a metric label, only when it is one we know (labels stay bounded).
    static func typeLabel(_ delivery: Delivery) -> String {
        delivery.properties.type.flatMap(EventType.init(rawValue:))?.rawValue ?? "unknown"
    }
}
