import AMQP
import Foundation
import HTTPServerLimits
import Hummingbird
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// The worker's parts, built once and shared by the HTTP routes and the services; tests reach
/// the store and metrics through it.
public struct Worker: Sendable {
    public let configuration: WorkerConfiguration
    public let store: FulfillmentStore
    public let metrics: WorkerMetrics
    let consumer: PaymentsConsumer
    let relay: EventRelay
    let sender: NotificationSender
    let housekeeping: Housekeeping

    /// Opens (and migrates) the store; a PostgreSQL database that cannot be reached is an error.
    public init(configuration: WorkerConfiguration, logger: Logger = Logger(label: "fulfillment-worker")) async throws {
        self.configuration = configuration
        store = try await FulfillmentStore.open(
            configuration.database, busyTimeout: configuration.databaseBusyTimeout,
            maximumConnections: configuration.databaseMaxConnections, logger: logger)
        try await store.releaseAbandonedClaims()
        metrics = WorkerMetrics()
        let amqp = try Self.amqpConfiguration(url: configuration.amqpURL, connectionName: "fulfillment-worker")
        let emails = WakeSignal()
        let events = WakeSignal()
        let composer = NotificationComposer(from: configuration.mailFrom)
        consumer = PaymentsConsumer(
            store: store, amqp: amqp, prefetch: configuration.prefetch, applier: EventApplier(composer: composer),
            router: FailureRouter(retrySteps: configuration.retrySteps, logger: logger), metrics: metrics,
            emailsQueued: emails, eventsQueued: events, logger: logger
        )
        var relayAMQP = amqp
        relayAMQP.connectionName = "fulfillment-worker-events"
        relay = EventRelay(store: store, amqp: relayAMQP, signal: events, logger: logger)
        let transport: any MailTransport =
            configuration.smtp.map { SMTPTransport(settings: $0) } ?? FileMailTransport(directory: configuration.mailDirectory)
        sender = NotificationSender(
            store: store, transport: transport, from: configuration.mailFrom, signal: emails, metrics: metrics,
            initialDelay: configuration.mailRetryInitialDelay, maxDelay: configuration.mailRetryMaxDelay, logger: logger
        )
        housekeeping = Housekeeping(store: store, metrics: metrics, interval: configuration.housekeepingInterval, logger: logger)
    }

    /// The product topology as the worker declares it at start and after every reconnection.
    public static func amqpConfiguration(url: String, connectionName: String) throws -> AMQPConfiguration {
        var amqp = try AMQPConfiguration(url: url, connectionName: connectionName)
        amqp.topology = try AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions()))
        return amqp
    }

    /// Whether the consumer holds a broker connection.
    public var isBrokerConnected: Bool { consumer.isBrokerConnected }

    var services: [any Service] { [consumer, relay, sender, housekeeping] }
}

/// The worker as the executable runs it and the tests build it: the consumer, the event relay,
/// the email sender and housekeeping as services, and `/healthz`, `/readyz`, `/metrics` on
/// `WORKER_PORT`, an admin-only listener (loopback by default) that cuts off slow clients and
/// caps its connections (HTTPServerLimits). Graceful shutdown stops taking messages, settles
/// those in hand, then closes.
public func buildApplication(worker: Worker, logger: Logger = Logger(label: "fulfillment-worker")) -> some ApplicationProtocol {
    let router = Router()
    // `/readyz`: the database answers and the consumer holds a broker connection.
    HealthController(
        checks: [
            .init("database") { await worker.store.isReachable() },
            .init("broker") { worker.isBrokerConnected },
        ], exposition: { worker.metrics.exposition() }
    ).addRoutes(to: router)
    let limiter = ConnectionLimiter(
        limits: worker.configuration.limits, listener: "admin",
        metrics: ConnectionMetrics(registry: worker.metrics.registry, namespace: "worker", listener: "admin"), logger: logger
    )
    return Application(
        router: router,
        server: .http1(limitedBy: limiter),
        configuration: .init(
            address: .hostname(worker.configuration.host, port: worker.configuration.port), serverName: "fulfillment-worker"),
        services: worker.services,
        logger: logger
    )
}

public func buildApplication(configuration: WorkerConfiguration, logger: Logger = Logger(label: "fulfillment-worker")) async throws
    -> some ApplicationProtocol
{
    buildApplication(worker: try await Worker(configuration: configuration, logger: logger), logger: logger)
}
