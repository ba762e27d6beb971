import AMQP
import AsyncHTTPClient
import CobroTestSupport
import Foundation
import GRDB
import NIOCore
import NIOFoundationCompat
import PaymentsCore
import Testing

@testable import Gateway

/// Sends signed webhooks concurrently over real connections (the test client of a `.live` app
/// has one connection).
enum WebhookBurst {
    /// Posts every body, `concurrency` at a time; returns the status codes in order.
    static func post(_ bodies: [Data], to port: Int, concurrency: Int = 32, secret: String = FintocEvents.secret) async throws -> [Int] {
        var statuses = Array(repeating: 0, count: bodies.count)
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            var next = 0
            func add() {
                guard next < bodies.count else { return }
                let index = next
                next += 1
                group.addTask {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/fintoc")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.headers.add(name: "Fintoc-Signature", value: FintocEvents.signatureHeader(bodies[index], secrets: [secret]))
                    request.body = .bytes(ByteBuffer(data: bodies[index]))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                    _ = try await response.body.collect(upTo: 1 << 16)
                    return (index, Int(response.status.code))
                }
            }
            for _ in 0..<concurrency { add() }
            while let (index, status) = try await group.next() {
                statuses[index] = status
                add()
            }
        }
        return statuses
    }

    /// For each checkout (a widget payment intent), its Fintoc history as webhooks: requires
    /// action, pending, succeeded, and the pending one again (a redelivery).
    static func histories(_ checkouts: [(id: String, providerID: String)]) -> [Data] {
        checkouts.flatMap { checkout -> [Data] in
            let pending = FintocEvents.event(
                type: "payment_intent.pending", data: FintocEvents.intent(checkout.providerID, status: "pending", checkout: checkout.id))
            return [
                FintocEvents.event(
                    type: "payment_intent.requires_action",
                    data: FintocEvents.intent(checkout.providerID, status: "requires_action", checkout: checkout.id)),
                pending,
                FintocEvents.event(
                    type: "payment_intent.succeeded",
                    data: FintocEvents.intent(checkout.providerID, status: "succeeded", checkout: checkout.id)),
                pending,
            ]
        }
    }
}

@Suite("Webhooks while the broker is down", .needsBroker, .tags(.broker), .serialized)
struct WebhookOutageTests {
    @Test("the broker stopped during a burst of 2,000 webhooks and started again: every domain event is published once")
    func burstDuringOutage() async throws {
        try await Stack.run { stack in
            try await stack.declareProductTopology()
            let port = try #require(stack.gateway.port)
            var checkouts: [(id: String, providerID: String)] = []
            for index in 0..<500 {
                let made = try await stack.checkout(ui: "payment_intent", orderID: "ord-burst-\(index)")
                checkouts.append((made.id, made.providerID))
            }
            let bodies = WebhookBurst.histories(checkouts)
            #expect(bodies.count == 2_000)
            // The first quarter while the broker is up, the rest after it stopped.
            let first = try await WebhookBurst.post(Array(bodies.prefix(500)), to: port)
            try await BrokerFixture.brokerScript("stop")
            let rest = try await WebhookBurst.post(Array(bodies.dropFirst(500)), to: port)
            #expect((first + rest).allSatisfy { $0 == 200 }, "every webhook is answered 200 after its commit, broker or not")
            let waiting = try await OutboxStatus.read(stack.configuration.openStore())
            #expect(waiting.depth > 0, "events wait in the outbox while the broker is down")
            try await BrokerFixture.brokerScript("start")

            let reader = try await AMQPConnection.connect(url: stack.configuration.amqpURL, connectionName: "burst-reader")
            let queue = DeliveryBuffer(try await reader.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 500))
            let deliveries = try await queue.take(2_000, timeout: .seconds(120))
            let ids = deliveries.compactMap(\.properties.messageID)
            #expect(ids.count == 2_000, "500 checkout.created + 500 × (action_required, pending, succeeded)")
            #expect(Set(ids).count == ids.count, "each once")
            #expect(try await queue.take(1, timeout: .seconds(2)).isEmpty, "no duplicates")
            for index in [0, 250, 499] {
                let order = "ord-burst-\(index)"
                let types = deliveries.filter { $0.properties.messageID?.hasPrefix("shop/\(order)/") == true }.map(\.routingKey)
                // Webhooks arrive concurrently; events are published in the order they were taken in.
                #expect(types.first == "checkout.created", "\(order)")
                #expect(
                    Set(types) == ["checkout.created", "payment.action_required", "payment.pending", "payment.succeeded"]
                        && types.count == 4, "\(order)")
            }
            let after = try await OutboxStatus.read(stack.configuration.openStore())
            #expect(after.depth == 0)
            queue.stop()
            await reader.close()
        }
    }
}
