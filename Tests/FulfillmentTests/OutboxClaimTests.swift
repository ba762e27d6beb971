import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

@testable import Fulfillment

/// The notification outbox's claims, on each engine, with the clock given explicitly: a claimed
/// row goes to no other sender until its lease ends or a mark ends the claim.
@Suite("Worker store: outbox claims")
struct OutboxClaimTests {
    static let composer = NotificationComposer(from: MailAddress(address: "pedidos@cobro.local", displayName: "Cobro"))

    /// Queues one awaiting-payment email for each of `orders`.
    static func queueEmails(_ store: FulfillmentStore, orders: [String]) async throws {
        let plans = orders.map { id in
            let order = Events.order(id, lines: [("SKU-1", 1)])
            let email = composer.render(kind: .paymentAwaiting, order: order, values: [:], now: Date())
            return DeliveryPlan(
                messageID: "\(id)/payment.pending/1", type: "payment.pending", order: order, action: .emailUnlessSold(email))
        }
        let results = try await store.apply(plans)
        #expect(results.allSatisfy { (try? $0.get().emailQueued) == true })
    }

    @Test(
        "a claimed email goes to no other sender until its lease ends; a mark or a give-back ends the claim",
        arguments: StoreEngine.available)
    func leases(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture.open(engine)
        defer { Task { await fixture.remove() } }
        let store = fixture.store
        try await Self.queueEmails(store, orders: ["claim-1", "claim-2", "claim-3"])
        // Whole seconds: both engines store less than a Date's precision.
        let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1).rounded(.up))
        let lease = Duration.seconds(10)

        let first = try await store.engine.claimDueNotifications(at: start, limit: 10, lease: lease)
        #expect(first.map(\.orderID) == ["claim-1", "claim-2", "claim-3"])
        #expect(try await store.engine.claimDueNotifications(at: start + 5, limit: 10, lease: lease).isEmpty, "held by the first sender")
        #expect(try await store.engine.nextNotificationDue() == start + 10, "due again when the claims end")

        try await store.engine.markNotifications([.sent(id: first[0].id), .untried(id: first[1].id)], at: start + 5)
        let second = try await store.engine.claimDueNotifications(at: start + 6, limit: 10, lease: lease)
        #expect(second.map(\.orderID) == ["claim-2"], "the one given back, not the sent one, not the one still held")

        let third = try await store.engine.claimDueNotifications(at: start + 11, limit: 10, lease: lease)
        #expect(third.map(\.orderID) == ["claim-3"], "a dead sender's claim ends with its lease")
        #expect(
            try await store.engine.claimDueNotifications(at: start + 30, limit: 10, lease: lease).map(\.orderID) == ["claim-2", "claim-3"])
    }

    @Test(
        "on SQLite a worker's start ends the claims left from before; on PostgreSQL they wait for their lease",
        arguments: StoreEngine.available)
    func abandonedClaims(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture.open(engine)
        defer { Task { await fixture.remove() } }
        let store = fixture.store
        try await Self.queueEmails(store, orders: ["left-1"])
        let now = Date().addingTimeInterval(1)
        #expect(try await store.engine.claimDueNotifications(at: now, limit: 10, lease: .seconds(60)).count == 1)
        try await store.releaseAbandonedClaims()
        let after = try await store.engine.claimDueNotifications(at: now + 1, limit: 10, lease: .seconds(60))
        #expect(after.count == (engine == .sqlite ? 1 : 0))
    }
}
