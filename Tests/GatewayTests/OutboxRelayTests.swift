import AMQP
import CobroTestSupport
import Foundation
import Logging
import PaymentsCore
import ServiceRuntime
import Testing

@testable import Gateway

/// A relay on its own database and virtual host, run as a task, and a tap on the exchange.
struct RelayHarness {
    let database: GatewayStore
    let url: String
    let relay: OutboxRelay
    let signal = WakeSignal()

    /// A relay on a fresh store on `engine`.
    init(url: String, engine: StoreEngine = .sqlite) async throws {
        try await self.init(url: url, database: GatewayStore.openForTest(GatewayFixture.location(engine)))
    }

    /// A relay on `database`, as one replica's: a store of its own on a shared database, and a
    /// lease holder of its own (`holder`), so several harnesses in one test process are several
    /// replicas.
    init(url: String, database: GatewayStore, holder: String = "relay-test/\(UUID().uuidString)") throws {
        self.url = url
        self.database = database
        var amqp = try AMQPConfiguration(url: url, connectionName: "relay-test")
        amqp.topology = try AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions()))
        amqp.reconnectBackoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500))
        let metrics = GatewayMetrics()
        let logger = Logger(label: "relay-test")
        relay = OutboxRelay(
            store: database, lease: Lease(.relay, store: database, holder: holder, metrics: metrics, logger: logger), amqp: amqp,
            signal: signal, metrics: metrics, logger: logger, idleWait: .milliseconds(200))
    }

    /// Writes `events` in one transaction, as the gateway does, and wakes the relay.
    func enqueue(_ events: [DomainEvent]) async throws {
        try await database.enqueue(events.map { EventEnvelope(event: $0, time: Date(timeIntervalSince1970: 1_795_000_000)) })
        signal.notify()
    }

    func status() async throws -> OutboxStatus {
        try await OutboxStatus.read(database)
    }

    /// Polls until the outbox is empty or `timeout` passes.
    func drained(within timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await status().depth == 0 { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

enum RelayEvents {
    static let order = OrderSnapshot(
        id: try! OrderID("ord-relay"), storefront: try! StorefrontID("tienda"), amount: 350_000, currency: .clp,
        lineItems: [LineItem(sku: "SKU-1", name: "Item", quantity: 1, unitAmount: 350_000)],
        customer: Customer(email: "a@example.cl")
    )

    /// The life of one order's checkout attempt: created, pending, then succeeded.
    static func lifecycle(order id: String, attempt: Int = 1) -> [DomainEvent] {
        var order = order
        order.id = try! OrderID(id)
        let checkout = CheckoutSnapshot(
            id: try! CheckoutID("chk_\(id)_\(attempt)"), attempt: attempt, ui: .redirect,
            providerID: "cs_\(attempt)", expiresAt: Date(timeIntervalSince1970: 1_795_086_400))
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        return [
            .checkoutCreated(CheckoutCreated(order: order, checkout: checkout, mode: .test, occurredAt: at)),
            .paymentPending(
                PaymentPending(
                    order: order, checkout: checkout, payment: PaymentSnapshot(id: "pi_\(attempt)", status: .pending), mode: .test,
                    occurredAt: at)),
            .paymentSucceeded(
                PaymentSucceeded(
                    order: order, checkout: checkout, payment: PaymentSnapshot(id: "pi_\(attempt)", status: .succeeded), mode: .test,
                    occurredAt: at)),
        ]
    }
}

@Suite("Outbox relay against a real RabbitMQ")
struct OutboxRelayTests {
    @Test(
        "rows reach the exchange once, in order per order, with the envelope's properties; then they are marked published", .needsBroker,
        .tags(.broker), arguments: StoreEngine.available)
    func publishesInOrder(_ engine: StoreEngine) async throws {
        let url = try await BrokerFixture.virtualHost()
        let harness = try await RelayHarness(url: url, engine: engine)
        let observer = try await AMQPConnection.connect(url: url, connectionName: "relay-observer")
        let queue = try await BrokerFixture.tap(observer, exchange: PaymentsTopology.paymentsExchange)
        let consumer = DeliveryBuffer(try await observer.consume(queue: queue, prefetch: 100))

        let orders = (1...8).map { "ord-r\($0)" }
        try await harness.enqueue(orders.flatMap { RelayEvents.lifecycle(order: $0) })
        // The same fact again changes nothing: one row per event id.
        try await harness.enqueue(RelayEvents.lifecycle(order: "ord-r1"))
        #expect(try await harness.status().depth == 24)

        let running = Task { try await harness.relay.run() }
        let deliveries = try await consumer.take(24)
        #expect(deliveries.count == 24)
        #expect(try await harness.drained())

        let ids = deliveries.compactMap(\.properties.messageID)
        #expect(Set(ids).count == 24, "each event exactly once")
        for order in orders {
            let types = deliveries.filter { $0.properties.messageID?.hasPrefix("tienda/\(order)/") == true }.map(\.routingKey)
            #expect(types == ["checkout.created", "payment.pending", "payment.succeeded"], "\(order)")
        }
        let first = try #require(deliveries.first)
        #expect(first.properties.contentType == "application/cloudevents+json")
        #expect(first.properties.deliveryMode == .persistent)
        #expect(first.properties.type == first.routingKey)
        #expect(first.properties.appID == "/cobro/payments-gateway")
        let envelope = try EventEnvelope.decode(first.body)
        #expect(envelope.id == first.properties.messageID)
        let status = try await harness.status()
        #expect(status.publishedTotal == 24 && status.oldestAgeSeconds == nil)

        // Nothing more arrives: no duplicates after the drain.
        #expect(try await consumer.take(1, timeout: .milliseconds(500)).isEmpty)
        running.cancel()
        _ = try? await running.value
        consumer.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: url)
    }

    @Test("with no broker, new rows do not cut the backoff short: no reconnection storm")
    func noReconnectStorm() async throws {
        let harness = try await RelayHarness(url: "amqp://guest:guest@127.0.0.1:9/")
        let running = Task { try await harness.relay.run() }
        let started = ContinuousClock.now
        for index in 0..<100 {
            try await harness.enqueue(RelayEvents.lifecycle(order: "ord-storm-\(index)").prefix(1).map { $0 })
            try await Task.sleep(for: .milliseconds(10))
        }
        // 100 commits, each waking the relay: a storm is one attempt per commit. The backoff
        // (100 ms doubling to 5 s, full jitter) allows a handful in the first second or two, then
        // 0.4 a second on average; a loaded machine stretches the loop (21 s was seen in CI, with
        // 9 honest attempts), so the allowance grows with the time the commits took: 8 plus one
        // per second, still far below one per commit.
        let elapsed = ContinuousClock.now - started
        let allowed = 8 + Int(elapsed.components.seconds)
        #expect(
            harness.relay.connectionAttempts <= allowed && harness.relay.connectionAttempts < 50,
            "\(harness.relay.connectionAttempts) attempts in \(elapsed), at most \(allowed) allowed")
        #expect(try await harness.status().depth == 100)
        running.cancel()
        _ = try? await running.value
    }

    @Test("with no broker reachable, rows wait and nothing is lost")
    func brokerUnreachable() async throws {
        let harness = try await RelayHarness(url: "amqp://guest:guest@127.0.0.1:9/")
        try await harness.enqueue(RelayEvents.lifecycle(order: "ord-wait"))
        let running = Task { try await harness.relay.run() }
        try await Task.sleep(for: .milliseconds(800))
        #expect(!harness.relay.isBrokerConnected)
        let status = try await harness.status()
        #expect(status.depth == 3)
        #expect(status.publishedTotal == 0)
        running.cancel()
        _ = try? await running.value
    }
}
