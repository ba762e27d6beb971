import Fintoc
import Foundation
import Logging
import PaymentsCore

/// All of the sandbox's state, in memory: sessions, intents, refunds, customers, webhook
/// endpoints, the events emitted, the delivery log, idempotency records and the faults in force.
///
/// One actor so every state change and the events it emits happen together and in order; the
/// dispatcher reads the emitted batches from ``eventBatches``.
public actor SandboxStore {
    let configuration: SandboxConfiguration
    let logger: Logger
    /// The clock; tests of expiry move nothing, they configure short lifetimes instead.
    let now: @Sendable () -> Date

    var sessions: [String: SessionRecord] = [:]
    var intents: [String: IntentRecord] = [:]
    var refunds: [String: RefundRecord] = [:]
    var customers: [String: CustomerRecord] = [:]
    /// Customer ids by mode, tax id type and normalised tax id: at most one customer each.
    var customerIDsByTaxID: [String: String] = [:]
    var endpoints: [String: EndpointRecord] = [:]
    var events: [Event] = []
    var deliveries: [DeliveryRecord] = []
    var idempotency: [String: IdempotencyRecord] = [:]
    var loginTickets: [String: LoginTicket] = [:]
    /// When the sweeper last pruned expired idempotency records and login tickets.
    var lastPrune = Date.distantPast
    public private(set) var faults = Faults()
    var sequence = 0

    nonisolated let eventBatches: AsyncStream<EventBatch>
    private let batchContinuation: AsyncStream<EventBatch>.Continuation

    public init(
        configuration: SandboxConfiguration, logger: Logger = Logger(label: "fintoc-sandbox"),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.logger = logger
        self.now = now
        (eventBatches, batchContinuation) = AsyncStream.makeStream(of: EventBatch.self)
        if let bootstrap = configuration.bootstrapWebhook {
            let id = "we_bootstrap"
            let endpoint = WebhookEndpoint(
                id: id, mode: .test, url: bootstrap.url, enabledEvents: ["*"], status: .enabled,
                description: "Bootstrapped from SANDBOX_WEBHOOK_URL", secret: nil, createdAt: Timestamp.truncatedToMilliseconds(now())
            )
            endpoints[id] = EndpointRecord(endpoint: endpoint, secret: bootstrap.secret, sequence: 0)
        }
    }

    func nextSequence() -> Int {
        sequence += 1
        return sequence
    }

    /// The current time cut to milliseconds, as timestamps are written.
    func timestamp() -> Date { Timestamp.truncatedToMilliseconds(now()) }

    // MARK: Events

    /// Records events for one state change and hands them to the dispatcher, in order.
    func emit(_ items: [(Event.EventType, JSONValue)], onlyEndpointID: String? = nil) {
        guard !items.isEmpty else { return }
        let created = timestamp()
        let batch = items.map { Event(id: SandboxID.event(), type: $0.0, mode: .test, createdAt: created, data: $0.1) }
        events.append(contentsOf: batch)
        Self.trim(&events, to: Self.logLimit)
        for event in batch {
            logger.debug("event emitted", metadata: ["event_id": "\(event.id)", "event_type": "\(event.type)"])
        }
        batchContinuation.yield(EventBatch(events: batch, onlyEndpointID: onlyEndpointID))
    }

    /// The last `logLimit` events, oldest first (`GET /sandbox/events`).
    public func allEvents() -> [Event] { events }

    /// Ends the stream of batches, so the dispatcher stops when the application does.
    func finishEvents() { batchContinuation.finish() }

    // MARK: Faults

    public func setFaults(_ faults: Faults) { self.faults = faults }

    /// Takes one use of the first API error rule matching this call, if any.
    func takeAPIError(method: String, path: String) -> Int? {
        for index in faults.apiErrors.indices {
            let rule = faults.apiErrors[index]
            guard rule.count > 0 else { continue }
            if let prefix = rule.pathPrefix, !path.hasPrefix(prefix) { continue }
            if let wanted = rule.method, wanted.uppercased() != method.uppercased() { continue }
            faults.apiErrors[index].count -= 1
            let status = rule.status
            faults.apiErrors.removeAll { $0.count <= 0 }
            return status
        }
        return nil
    }

    // MARK: Deliveries

    func record(_ delivery: DeliveryRecord) {
        deliveries.append(delivery)
        Self.trim(&deliveries, to: Self.logLimit)
    }

    /// How many events and delivery attempts `/sandbox/events` and `/sandbox/deliveries` keep:
    /// a sandbox left running for days (or a benchmark) must not grow without bound.
    static let logLimit = 50_000

    /// Drops the oldest entries once `log` is a tenth over `limit`, so trimming is rare and cheap.
    static func trim<T>(_ log: inout [T], to limit: Int) {
        if log.count > limit + limit / 10 { log.removeFirst(log.count - limit) }
    }

    /// The last `logLimit` delivery attempts, oldest first (`GET /sandbox/deliveries`).
    public func allDeliveries() -> [DeliveryRecord] { deliveries }

    /// The endpoints an event of `type` goes to (all enabled subscribers, or just `onlyID`).
    func deliveryTargets(for type: String, onlyID: String?) -> [(id: String, url: String, secret: String)] {
        endpoints.values
            .filter { onlyID == nil ? $0.subscribes(to: type) : $0.endpoint.id == onlyID }
            .sorted { $0.sequence < $1.sequence }
            .map { ($0.endpoint.id, $0.endpoint.url, $0.secret) }
    }

    /// Where to send a retry now; nil once the endpoint was deleted or disabled.
    func currentTarget(endpointID: String) -> (url: String, secret: String)? {
        guard let record = endpoints[endpointID], record.endpoint.status != .disabled else { return nil }
        return (record.endpoint.url, record.secret)
    }
}
