import AMQP
import Fintoc
import Foundation
import HTTPServerLimits
import Hummingbird
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// The gateway as the executable runs it and the tests build it: store, Fintoc client, storefront
/// API and health routes, with the background services they need.
///
/// Two listeners in one process: the public one (`GATEWAY_PORT`: storefront API, Fintoc's
/// webhooks, a bare `/healthz`) and the admin one (`GATEWAY_ADMIN_PORT`, loopback by default:
/// `/metrics`, `/readyz`, `/healthz`), which runs as one of the public application's services.
/// Both cut off slow clients and cap their connections (HTTPServerLimits).
public func buildApplication(configuration: GatewayConfiguration, logger: Logger = Logger(label: "payments-gateway")) async throws
    -> some ApplicationProtocol
{
    let fintoc = FintocClient(configuration: configuration.fintoc, logger: logger)
    return try await buildApplication(configuration: configuration, fintoc: fintoc, checkoutAPI: fintoc, logger: logger)
}

/// The same gateway with `checkoutAPI` making the checkout path's Fintoc calls: the router tests
/// put a test double there, at the boundary we do not own. Reconciliation keeps `fintoc`.
func buildApplication(
    configuration: GatewayConfiguration, fintoc: FintocClient, checkoutAPI: any FintocCheckoutAPI, logger: Logger
) async throws -> some ApplicationProtocol {
    let store = try await GatewayStore.open(configuration, logger: logger)
    let keys = StorefrontKeys(store: store)
    try await keys.syncConfigured(configuration.storefrontKeys)
    let metrics = GatewayMetrics()
    var amqp = try AMQPConfiguration(url: configuration.amqpURL, connectionName: "payments-gateway")
    // Only what the gateway owns: its user may configure nothing else (deploy/rabbitmq); the
    // worker declares its queues and bindings. Until a queue is bound, publishes come back
    // unroutable and the events wait in the outbox.
    amqp.topology = try AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.publisherDefinitions()))
    let signal = WakeSignal()
    let relay = OutboxRelay(
        store: store, lease: Lease(.relay, store: store, metrics: metrics, logger: logger), amqp: amqp, signal: signal, metrics: metrics,
        logger: logger)
    var idempotency = IdempotencyStore(store: store)
    idempotency.abandonedAfter = IdempotencyStore.abandonedAfter(for: configuration.fintoc)
    let service = CheckoutService(
        store: store, fintoc: checkoutAPI, idempotency: idempotency,
        publicKey: configuration.fintocPublicKey, recipientAccount: configuration.fintocRecipientAccount,
        defaultLifetime: configuration.defaultCheckoutLifetime, outboxChanged: { signal.notify() }, metrics: metrics, logger: logger
    )

    let ingestor = WebhookIngestor(store: store, committed: { _ in signal.notify() }, logger: logger)
    var reconciler = Reconciler(
        store: store, fintoc: fintoc, ingestor: ingestor, metrics: metrics, interval: configuration.reconcileInterval,
        grace: configuration.reconcileGrace, pendingEvery: configuration.reconcilePendingEvery, logger: logger
    )
    reconciler.lease = Lease(.reconciler(every: configuration.reconcileInterval), store: store, metrics: metrics, logger: logger)

    // `/readyz`: the database answers and the relay holds a broker connection.
    let health = HealthController(
        checks: [
            .init("database") { await store.isReachable() },
            .init("broker") { relay.isBrokerConnected },
        ], exposition: { metrics.exposition() })
    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    let routes = RouteTableHolder()
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ErrorEnvelopeMiddleware(routes: routes))
    health.addLivenessRoute(to: router)
    let api = router.group("v1").add(middleware: StorefrontAuthMiddleware(keys: keys))
    CheckoutsController(service: service, maxBodyBytes: configuration.maxBodyBytes).addRoutes(to: api)
    WebhooksController(
        verifier: WebhookVerifier(secrets: configuration.webhookSecrets, tolerance: configuration.webhookTolerance),
        ingestor: ingestor, maxBodyBytes: configuration.maxWebhookBytes, metrics: metrics
    ).addRoutes(to: router)
    routes.set(RouteTable(router: router))

    let publicLimiter = ConnectionLimiter(
        limits: configuration.limits, listener: "public",
        metrics: ConnectionMetrics(registry: metrics.registry, namespace: "gateway", listener: "public"), logger: logger
    )
    return Application(
        router: router,
        server: .http1(limitedBy: publicLimiter),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "payments-gateway"),
        services: [
            adminApplication(configuration: configuration, health: health, metrics: metrics, logger: logger),
            relay,
            IdempotencyJanitor(
                idempotency: idempotency, store: store,
                lease: Lease(.idempotencyJanitor(every: .seconds(3600)), store: store, metrics: metrics, logger: logger),
                interval: .seconds(3600), logger: logger),
            reconciler,
            ShutdownHook { try await fintoc.shutdown() },
        ],
        logger: logger
    )
}

/// Runs `action` when the service group shuts down, for resources without a service of their own.
struct ShutdownHook: Service {
    let action: @Sendable () async throws -> Void

    func run() async throws {
        try? await gracefulShutdown()
        try await action()
    }
}

/// The admin listener: `/metrics`, `/readyz` and `/healthz` for Prometheus and the orchestrator,
/// with the same error envelope and request metrics as the public one.
func adminApplication(configuration: GatewayConfiguration, health: HealthController, metrics: GatewayMetrics, logger: Logger)
    -> some Service
{
    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    let routes = RouteTableHolder()
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ErrorEnvelopeMiddleware(routes: routes))
    health.addRoutes(to: router)
    routes.set(RouteTable(router: router))
    let limiter = ConnectionLimiter(
        limits: configuration.adminLimits, listener: "admin",
        metrics: ConnectionMetrics(registry: metrics.registry, namespace: "gateway", listener: "admin"), logger: logger
    )
    var adminLogger = logger
    adminLogger[metadataKey: "listener"] = "admin"
    return Application(
        router: router,
        server: .http1(limitedBy: limiter),
        configuration: .init(
            address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: "payments-gateway-admin"),
        logger: adminLogger
    )
}
