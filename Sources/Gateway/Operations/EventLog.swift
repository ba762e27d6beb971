import AMQP
import Fintoc
import Foundation
import Logging
import PaymentsCore

/// The operator's view of what the gateway stored: the domain events of an order (or since a
/// time) and the Fintoc events behind them; and replay, which publishes stored domain events again
/// with their original ids for a consumer that lost data.
public struct EventLog: Sendable {
    public let store: GatewayStore

    public init(store: GatewayStore) {
        self.store = store
    }

    /// One stored domain event.
    public struct DomainEntry: Sendable, Hashable, Codable {
        public let sequence: Int64
        public let id: String
        public let type: String
        public let storefront: String
        public let orderID: String
        public let createdAt: Date
        public let publishedAt: Date?

        enum CodingKeys: String, CodingKey {
            case sequence, id, type, storefront
            case orderID = "order_id"
            case createdAt = "created_at"
            case publishedAt = "published_at"
        }
    }

    /// One Fintoc event received (or synthesised by reconciliation) for the order's checkouts.
    public struct FintocEntry: Sendable, Hashable, Codable {
        public let id: String
        public let type: String
        public let source: String
        public let objectID: String?
        public let checkoutID: String?
        public let outcome: String
        public let detail: String?
        public let receivedAt: Date

        enum CodingKeys: String, CodingKey {
            case id, type, source, outcome, detail
            case objectID = "object_id"
            case checkoutID = "checkout_id"
            case receivedAt = "received_at"
        }
    }

    public struct OrderHistory: Sendable, Hashable, Codable {
        public let storefront: String
        public let orderID: String
        public let domainEvents: [DomainEntry]
        public let fintocEvents: [FintocEntry]

        enum CodingKeys: String, CodingKey {
            case storefront
            case orderID = "order_id"
            case domainEvents = "domain_events"
            case fintocEvents = "fintoc_events"
        }
    }

    /// An order as an operator names it: its id, and its storefront when the id alone could be
    /// another storefront's order too.
    public struct OrderName: Sendable, Hashable, CustomStringConvertible {
        public let storefront: String?
        public let id: String

        public init(storefront: String? = nil, id: String) {
            self.storefront = storefront
            self.id = id
        }

        public var description: String { storefront.map { "\($0)/\(id)" } ?? id }
    }

    /// Why an operator's order name names no single order.
    public enum LookupError: Error, Sendable, Hashable, CustomStringConvertible {
        case unknown(OrderName)
        /// Several storefronts have an order with this id: `--storefront` must say which.
        case ambiguous(id: String, storefronts: [String])

        public var description: String {
            switch self {
            case .unknown(let name):
                "no order \(name.id)" + (name.storefront.map { " in storefront \($0)" } ?? "")
            case .ambiguous(let id, let storefronts):
                "order \(id) exists in storefronts \(storefronts.joined(separator: ", ")); say which with --storefront"
            }
        }
    }

    /// Everything stored about the order, oldest first.
    public func history(order name: OrderName) async throws -> OrderHistory {
        let (order, domain, fintoc) = try await store.history(of: name)
        return OrderHistory(
            storefront: order.storefront, orderID: order.id, domainEvents: domain.map(Self.entry), fintocEvents: fintoc.map(Self.entry))
    }

    /// What replay would publish: the order's events, or every event written at or after `since`.
    public func selection(order name: OrderName?, since: Date?, limit: Int = 100_000) async throws -> [DomainEntry] {
        try await storedEvents(order: name, since: since, limit: limit).map(Self.entry)
    }

    public struct ReplayReport: Sendable, Hashable, Codable {
        public var selected = 0
        public var published = 0
        public var failed = 0
        public var failures: [String] = []
    }

    /// Publishes the selected events again, in their original order, with their original ids and
    /// bodies, and waits for the broker's confirms. The outbox is not changed.
    public func replay(order name: OrderName?, since: Date?, amqpURL: String, logger: Logger) async throws -> ReplayReport {
        let rows = try await storedEvents(order: name, since: since, limit: 100_000)
        var report = ReplayReport(selected: rows.count)
        guard !rows.isEmpty else { return report }
        var amqp = try AMQPConfiguration(url: amqpURL, connectionName: "payments-gateway-replay")
        amqp.topology = try AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.publisherDefinitions()))
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        for chunk in stride(from: 0, to: rows.count, by: 512).map({ Array(rows[$0..<min($0 + 512, rows.count)]) }) {
            let outcomes = await connection.publish(chunk.map(OutboxRelay.message(for:)))
            for (row, outcome) in zip(chunk, outcomes) {
                if case .acked = outcome {
                    report.published += 1
                } else {
                    report.failed += 1
                    if report.failures.count < 20 { report.failures.append("\(row.eventID): \(OutboxRelay.label(outcome))") }
                }
            }
        }
        await connection.close()
        return report
    }

    private func storedEvents(order name: OrderName?, since: Date?, limit: Int) async throws -> [OutboxRecord] {
        try await store.domainEvents(order: name, since: since, limit: limit)
    }

    static func entry(_ row: OutboxRecord) -> DomainEntry {
        DomainEntry(
            sequence: row.sequence ?? 0, id: row.eventID, type: row.type, storefront: row.storefront, orderID: row.orderID,
            createdAt: row.createdAt, publishedAt: row.publishedAt)
    }

    static func entry(_ row: InboxRecord) -> FintocEntry {
        FintocEntry(
            id: row.id, type: row.type, source: row.source.rawValue, objectID: row.objectID, checkoutID: row.checkoutID,
            outcome: row.outcome.rawValue, detail: row.detail, receivedAt: row.receivedAt)
    }
}

/// One reconciliation pass now, outside the server (`payments-gateway reconcile --now`): what it
/// writes the running gateway's relay publishes.
public struct ReconcileNow: Sendable {
    /// `everythingOpen` re-reads every checkout not yet final, not only those due.
    public static func run(configuration: GatewayConfiguration, everythingOpen: Bool = false, logger: Logger) async throws
        -> ReconcileReport
    {
        let store = try await GatewayStore.open(configuration, logger: logger)
        let fintoc = FintocClient(configuration: configuration.fintoc, logger: logger)
        let ingestor = WebhookIngestor(store: store, committed: { _ in }, logger: logger)
        let reconciler = Reconciler(
            store: store, fintoc: fintoc, ingestor: ingestor, metrics: GatewayMetrics(), interval: 0,
            grace: configuration.reconcileGrace, pendingEvery: configuration.reconcilePendingEvery, logger: logger
        )
        let report = await reconciler.pass(everythingOpen: everythingOpen)
        try? await fintoc.shutdown()
        return report
    }
}
