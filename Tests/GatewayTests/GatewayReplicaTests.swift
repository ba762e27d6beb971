import AMQP
import CobroTestSupport
import Foundation
import PaymentsCore
import PostgresSupport
import Testing

@testable import Gateway

/// Several gateway replicas on one PostgreSQL database, each with a store (and connection pool)
/// of its own, doing at the same moment what one gateway would do one thing after another. Each
/// test asserts the end state one replica would have reached.
@Suite("Gateway replicas on one PostgreSQL database", .needsPostgres, .tags(.postgres))
struct GatewayReplicaTests {
    /// Two stores on one fresh database, as two gateway processes would open it.
    static func replicas(_ count: Int = 2) async throws -> [GatewayStore] {
        let location = try await GatewayFixture.location(.postgres)
        var stores: [GatewayStore] = []
        for _ in 0..<count { stores.append(try await GatewayStore.openForTest(location)) }
        return stores
    }

    /// One delivery as a replica's webhook route takes it: worked out on a snapshot first, then
    /// written in a group transaction of its own.
    static func deliver(_ body: Data, to store: GatewayStore) async throws -> IngestOutcome {
        let event = try WebhookNormaliser.normalise(body)
        var item = IngestItem(event: event, body: body, source: .webhook, receivedAt: Date())
        item.plan = try await store.prepareIngest(item)
        return try await store.ingest([item])[0].get()
    }

    @Test("every order's events, each delivered to both replicas at once: each order paid once, each event recorded once")
    func eventsRaceAcrossReplicas() async throws {
        let stores = try await Self.replicas()
        let orders = 24
        let setup = StoreFixture.Rows(store: stores[0])
        for index in 0..<orders {
            try await setup.addCheckout(
                ui: .paymentIntent, providerID: "pi_race_\(index)", checkoutID: "chk_race_\(index)", orderID: "ord-race-\(index)")
        }
        // Per order: pending, then succeeded (also as the session-less `requires_action` first),
        // every one sent to both replicas at the same moment.
        var deliveries: [(store: GatewayStore, body: Data)] = []
        for index in 0..<orders {
            for (type, status) in [
                ("payment_intent.requires_action", "requires_action"), ("payment_intent.pending", "pending"),
                ("payment_intent.succeeded", "succeeded"),
            ] {
                let body = FintocEvents.event(type: type, data: FintocEvents.intent("pi_race_\(index)", status: status, checkout: nil))
                deliveries.append((stores[0], body))
                deliveries.append((stores[1], body))
            }
        }
        deliveries.shuffle()
        let outcomes = try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
            for delivery in deliveries {
                group.addTask { try await Self.deliver(delivery.body, to: delivery.store) }
            }
            return try await group.reduce(into: [IngestOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .duplicate }.count == deliveries.count / 2, "each event once; its copy is a duplicate")
        let database = stores[0]
        #expect(try await database.integer("SELECT COUNT(*) FROM inbox") == deliveries.count / 2)
        #expect(try await database.integer("SELECT COUNT(*) FROM checkout WHERE status = 'succeeded' AND review_since IS NULL") == orders)
        #expect(try await database.integer(#"SELECT COUNT(*) FROM "order" WHERE status = 'paid'"#) == orders)
        let ids = try await database.strings("SELECT event_id FROM outbox ORDER BY sequence").compactMap { $0 }
        #expect(Set(ids).count == ids.count, "no domain event twice")
        for index in 0..<orders {
            let mine = ids.filter { $0.hasPrefix("shop/ord-race-\(index)/") }
            #expect(mine.contains("shop/ord-race-\(index)/payment.succeeded/1"), "\(mine)")
            #expect(!mine.contains { $0.contains("payment.failed") || $0.contains("payment.duplicate") }, "\(mine)")
        }
    }

    @Test("two checkouts of one order paid on two replicas at once: one payment.succeeded, one payment.duplicate")
    func secondPaymentRacesTheFirst() async throws {
        for round in 0..<8 {
            let stores = try await Self.replicas()
            let setup = StoreFixture.Rows(store: stores[0])
            try await setup.addCheckout(ui: .paymentIntent, providerID: "pi_one_\(round)", checkoutID: "chk_one", orderID: "ord-twice")
            try await setup.addCheckout(
                ui: .paymentIntent, providerID: "pi_two_\(round)", checkoutID: "chk_two", orderID: "ord-twice", attempt: 2)
            let first = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent("pi_one_\(round)", status: "succeeded", checkout: nil))
            let second = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent("pi_two_\(round)", status: "succeeded", checkout: nil))
            async let a = Self.deliver(first, to: stores[0])
            async let b = Self.deliver(second, to: stores[1])
            _ = try await (a, b)
            let types = try await stores[0].strings("SELECT type FROM outbox ORDER BY type").compactMap { $0 }
            #expect(types == ["payment.duplicate", "payment.succeeded"], "round \(round)")
            let paidBy = try await stores[0].orderRow("ord-twice")?.paidCheckoutID
            let succeeded = try await stores[0].strings("SELECT event_id FROM outbox WHERE type = 'payment.succeeded'")
            #expect(succeeded == ["shop/ord-twice/payment.succeeded/\(paidBy == "chk_one" ? 1 : 2)"], "the paying checkout's event")
        }
    }

    @Test("an idempotency key holds across replicas: one claim wins, the other sees it in flight, then replays its answer")
    func idempotencyAcrossReplicas() async throws {
        let stores = try await Self.replicas()
        let keys = stores.map { IdempotencyStore(store: $0) }
        let hash = IdempotencyStore.hash(Data("request".utf8))
        let now = Date()
        for round in 0..<20 {
            async let a = keys[0].begin(storefront: "s", key: "k\(round)", requestHash: hash, now: now)
            async let b = keys[1].begin(storefront: "s", key: "k\(round)", requestHash: hash, now: now)
            let begun = try await [a, b]
            let claims = begun.compactMap { if case .proceed(let claim) = $0 { claim } else { nil } }
            #expect(claims.count == 1, "round \(round): \(begun)")
            #expect(begun.contains(.inProgress), "round \(round): \(begun)")
            let claim = try #require(claims.first)
            try await stores[round % 2].storeAnswer(
                status: 201, body: Data("answer".utf8), for: IdempotencyClaim(storefront: "s", key: "k\(round)", claim: claim))
            for replica in keys {
                #expect(
                    try await replica.begin(storefront: "s", key: "k\(round)", requestHash: hash, now: now.addingTimeInterval(1))
                        == .replay(status: 201, body: Data("answer".utf8)))
            }
        }
    }

    @Test("replicas starting together sync the configured keys once")
    func keysSyncedOnce() async throws {
        let stores = try await Self.replicas(3)
        let configured = [("shop", GatewayFixture.storefrontKey), ("other-shop", GatewayFixture.otherStorefrontKey)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores {
                group.addTask { try await StorefrontKeys(store: store).syncConfigured(configured) }
            }
            try await group.waitForAll()
        }
        #expect(try await stores[0].integer("SELECT COUNT(*) FROM storefront_key") == 2)
        for store in stores {
            #expect(try await StorefrontKeys(store: store).authenticate(GatewayFixture.storefrontKey)?.name == "shop")
        }
    }
}

/// The gateway's singletons with several replicas: one relay publishes at a time, and another
/// takes over when it ends, cleanly or not.
@Suite("Gateway relays on one PostgreSQL database", .needsPostgres, .tags(.postgres), .needsBroker, .tags(.broker))
struct GatewayRelayFailoverTests {
    @Test("two relays on one database: each event once and each order in order; the other takes over when the holder stops")
    func oneRelayAtATime() async throws {
        let url = try await BrokerFixture.virtualHost()
        let location = try await GatewayFixture.location(.postgres)
        let first = try RelayHarness(url: url, database: try await GatewayStore.openForTest(location))
        let second = try RelayHarness(url: url, database: try await GatewayStore.openForTest(location))
        let observer = try await AMQPConnection.connect(url: url, connectionName: "relay-observer")
        let queue = try await BrokerFixture.tap(observer, exchange: PaymentsTopology.paymentsExchange)
        let consumer = DeliveryBuffer(try await observer.consume(queue: queue, prefetch: 200))
        let runningFirst = Task { try await first.relay.run() }
        let runningSecond = Task { try await second.relay.run() }

        try await first.enqueue((1...8).flatMap { RelayEvents.lifecycle(order: "ord-a\($0)") })
        let before = try await consumer.take(24)
        #expect(Set(before.compactMap(\.properties.messageID)).count == 24, "each event once")
        for order in 1...8 {
            let types = before.filter { $0.properties.messageID?.hasPrefix("tienda/ord-a\(order)/") == true }.map(\.routingKey)
            #expect(types == ["checkout.created", "payment.pending", "payment.succeeded"], "ord-a\(order)")
        }
        #expect(try await first.drained())

        // The holder stops (a deploy): it gives the lease back, and the other relay publishes.
        let holder = try #require(try await first.database.strings("SELECT holder FROM lease WHERE name = 'outbox_relay'").first ?? nil)
        let (stopping, staying, survivor) =
            holder == first.relay.lease.holderName ? (runningFirst, runningSecond, second) : (runningSecond, runningFirst, first)
        stopping.cancel()
        _ = try? await stopping.value
        try await survivor.enqueue((1...8).flatMap { RelayEvents.lifecycle(order: "ord-b\($0)") })
        let after = try await consumer.take(24, timeout: .seconds(20))
        #expect(Set(after.compactMap(\.properties.messageID)).count == 24)
        #expect(try await survivor.drained())
        #expect(try await consumer.take(1, timeout: .milliseconds(500)).isEmpty, "nothing twice")

        staying.cancel()
        _ = try? await staying.value
        consumer.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: url)
    }

    @Test("a relay whose lease is held by a replica that vanished waits for it to lapse, then publishes")
    func lapsedLeaseIsTakenOver() async throws {
        let url = try await BrokerFixture.virtualHost()
        let harness = try await RelayHarness(url: url, engine: .postgres)
        // A replica killed just after renewing: its lease runs 3 more seconds.
        #expect(try await harness.database.takeLease("outbox_relay", holder: "vanished", for: .seconds(3)))
        let observer = try await AMQPConnection.connect(url: url, connectionName: "relay-observer")
        let queue = try await BrokerFixture.tap(observer, exchange: PaymentsTopology.paymentsExchange)
        let consumer = DeliveryBuffer(try await observer.consume(queue: queue, prefetch: 50))
        let running = Task { try await harness.relay.run() }
        try await harness.enqueue(RelayEvents.lifecycle(order: "ord-lapse"))
        #expect(try await consumer.take(1, timeout: .seconds(1)).isEmpty, "not while another holds the lease")
        let deliveries = try await consumer.take(3, timeout: .seconds(15))
        #expect(deliveries.map(\.routingKey) == ["checkout.created", "payment.pending", "payment.succeeded"])
        running.cancel()
        _ = try? await running.value
        consumer.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: url)
    }
}

/// Two `payments-gateway` processes on one PostgreSQL database, as an operator runs them behind
/// a load balancer, and the one running the relay killed.
@Suite("Gateway processes on one PostgreSQL database", .needsPostgres, .tags(.postgres), .needsBroker, .tags(.broker))
struct GatewayProcessFailoverTests {
    @Test("webhooks to either gateway are published once, in order; SIGKILL the relay's gateway and the other publishes within seconds")
    func relayGatewayKilled() async throws {
        let orders = 40
        let store = try await StoreFixture(
            .postgres, ui: .paymentIntent, providerID: "pi_ha_0", checkoutID: "chk_ha_0", orderID: "ord-ha-0")
        for index in 1..<orders {
            try await store.addCheckout(
                ui: .paymentIntent, providerID: "pi_ha_\(index)", checkoutID: "chk_ha_\(index)", orderID: "ord-ha-\(index)", attempt: 1)
        }
        func history(_ index: Int) -> [Data] {
            [("payment_intent.pending", "pending"), ("payment_intent.succeeded", "succeeded")].map { type, status in
                FintocEvents.event(type: type, data: FintocEvents.intent("pi_ha_\(index)", status: status, checkout: nil))
            }
        }
        let url = try await BrokerFixture.virtualHost()
        let observer = try await AMQPConnection.connect(url: url, connectionName: "ha-observer")
        try await observer.declare(AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions())))
        let queue = DeliveryBuffer(try await observer.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 200))
        let refusing = try RefusingPort()
        let environment = [
            "GATEWAY_PORT": "0", "GATEWAY_ADMIN_PORT": "0", "GATEWAY_DATABASE_URL": store.setting, "LOG_LEVEL": "info",
            "FINTOC_API_URL": "http://127.0.0.1:\(refusing.port)", "GATEWAY_RECONCILE_INTERVAL": "0", "AMQP_URL": url,
        ]
        let gateways = [
            try RunningExecutable("payments-gateway", ["serve"], environment: environment),
            try RunningExecutable("payments-gateway", ["serve"], environment: environment),
        ]
        var ports: [Int] = []
        for gateway in gateways {
            ports.append(try #require(try await gateway.listeningPort(matching: { !$0.contains("listener=admin") }), "\(gateway.output)"))
        }

        // Each order's events go to both gateways (Fintoc retries land anywhere), in two halves.
        func send(_ range: Range<Int>, to targets: [Int]) async throws {
            for port in targets {
                let statuses = try await WebhookBurst.post(range.flatMap(history), to: port, concurrency: 8)
                #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            }
        }
        // Each order's two events, in the order its outbox rows were written (concurrent
        // deliveries may apply the succeeded one first; the pending one is then history).
        func expectPublished(_ range: Range<Int>, within timeout: Duration) async throws {
            let deliveries = try await queue.take(range.count * 2, timeout: timeout)
            for index in range {
                let ids = deliveries.compactMap(\.properties.messageID).filter { $0.hasPrefix("shop/ord-ha-\(index)/") }
                let written = try await store.database.strings(
                    "SELECT event_id FROM outbox WHERE order_id = 'ord-ha-\(index)' ORDER BY sequence")
                #expect(ids == written.compactMap { $0 } && ids.count == 2, "\(ids)")
            }
        }
        try await send(0..<20, to: ports)
        try await expectPublished(0..<20, within: .seconds(30))
        var drained = false
        for _ in 0..<100 where !drained {
            drained = try await OutboxStatus.read(store.database).depth == 0
            if !drained { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(drained)

        let holder = try #require(try await store.database.strings("SELECT holder FROM lease WHERE name = 'outbox_relay'").first ?? nil)
        let pid = try #require(holder.split(separator: "/").dropFirst().first.flatMap { Int32($0) }, "\(holder)")
        let relayIndex = try #require(gateways.firstIndex { $0.pid == pid }, "the lease names one of the two: \(holder)")
        #expect(try await gateways[relayIndex].stop(signal: SIGKILL) == SIGKILL)
        let survivor = 1 - relayIndex
        let killedAt = ContinuousClock.now
        try await send(20..<orders, to: [ports[survivor]])
        try await expectPublished(20..<orders, within: .seconds(20))
        let takeover = ContinuousClock.now - killedAt
        #expect(takeover < .seconds(15), "the relay's lease lapses 5 s after its last renewal: \(takeover)")
        #expect(try await queue.take(1, timeout: .seconds(2)).isEmpty, "each event once")
        #expect(try await gateways[survivor].stop() == 0)
        queue.stop()
        await observer.close()
        refusing.release()
        await BrokerFixture.deleteVirtualHost(of: url)
    }
}
