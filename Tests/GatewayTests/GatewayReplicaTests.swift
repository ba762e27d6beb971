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
        for _ in 0..<count { stores.append(try await GatewayStore.open(location)) }
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
