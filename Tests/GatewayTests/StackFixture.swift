import AMQP
import CobroTestSupport
import FintocSandbox
import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import PaymentsCore
import PostgresSupport

/// A real sandbox and a real gateway on free loopback ports, the gateway publishing to its own
/// virtual host of the test broker, and a queue tapping `payments.events`.
struct Stack {
    let gateway: any TestClientProtocol
    let sandbox: SandboxStore
    let sandboxClient: any TestClientProtocol
    let configuration: GatewayConfiguration
    /// The store's place as `GATEWAY_DATABASE_URL` takes it, for the executables a test runs.
    let databaseSetting: String
    let observer: AMQPConnection
    let events: DeliveryBuffer

    /// Runs `body` with a fresh stack, its gateway's store on `engine`; `adjust` may change the
    /// gateway's configuration first.
    static func run(
        engine: StoreEngine = .sqlite,
        adjust: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (Stack) async throws -> Void
    ) async throws {
        var logger = Logger(label: "sandbox-for-gateway-tests")
        logger.logLevel = .warning
        let sandbox = Sandbox(
            configuration: SandboxConfiguration(host: "127.0.0.1", port: 0, sweepInterval: 0.1, settleDelay: 0.3), logger: logger)
        let url = try await BrokerFixture.virtualHost()
        let observer = try await AMQPConnection.connect(url: url, connectionName: "gateway-test-observer")
        let tap = try await BrokerFixture.tap(observer, exchange: PaymentsTopology.paymentsExchange)
        let events = DeliveryBuffer(try await observer.consume(queue: tap, prefetch: 200))
        do {
            try await buildApplication(sandbox: sandbox).test(.live) { sandboxClient in
                var adjusted = GatewayFixture.configuration(fintocURL: "http://127.0.0.1:\(sandboxClient.port!)")
                adjusted.amqpURL = url
                let setting = engine == .sqlite ? adjusted.sqlitePath : try await GatewayFixture.databaseSetting(engine)
                adjusted.database = try DatabaseLocation(parsing: setting)
                adjust(&adjusted)
                let configuration = adjusted
                var gatewayLogger = Logger(label: "gateway-under-test")
                gatewayLogger.logLevel = .warning
                let app = try await Gateway.buildApplication(configuration: configuration, logger: gatewayLogger)
                try await app.test(.live) { gateway in
                    try await body(
                        Stack(
                            gateway: gateway, sandbox: sandbox.store, sandboxClient: sandboxClient,
                            configuration: configuration, databaseSetting: setting, observer: observer, events: events))
                }
            }
        } catch {
            events.stop()
            await observer.close()
            await BrokerFixture.deleteVirtualHost(of: url)
            throw error
        }
        events.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: url)
    }

    /// `POST /v1/checkouts` with the test storefront key.
    func createCheckout(_ body: [String: Any], key: String = UUID().uuidString, storefrontKey: String = GatewayFixture.storefrontKey)
        async throws -> TestResponse
    {
        try await gateway.execute(
            uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(key: storefrontKey, idempotencyKey: key),
            body: GatewayFixture.json(body))
    }

    /// Declares the worker's side of the topology (durable `fulfillment.payments` and the rest),
    /// as the fulfillment worker does at start: the gateway declares only its exchange.
    func declareProductTopology() async throws {
        try await observer.declare(AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions())))
    }

    /// The next `count` events on the exchange, decoded.
    func nextEvents(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [EventEnvelope] {
        try await events.take(count, timeout: timeout).map { try EventEnvelope.decode($0.body) }
    }
}

extension TestResponse {
    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
    }
}
