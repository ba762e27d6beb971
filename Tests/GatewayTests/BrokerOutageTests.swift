import AMQP
import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

@testable import Gateway

/// Tests that stop and start the broker. scripts/test runs suites named `…OutageTests` on their
/// own, after every other test, so no other test sees the broker vanish.
@Suite("Gateway broker outage", .needsBroker, .tags(.broker), .serialized)
struct GatewayBrokerOutageTests {
    @Test("the broker stopped while events are written: after it starts, each is published once, in order")
    func relaySurvivesRestart() async throws {
        let url = try await BrokerFixture.virtualHost()
        let harness = try await RelayHarness(url: url)
        let running = Task { try await harness.relay.run() }
        try await harness.enqueue(RelayEvents.lifecycle(order: "ord-before"))
        #expect(try await harness.drained())

        try await BrokerFixture.brokerScript("stop")
        let during = (1...5).map { "ord-during-\($0)" }
        try await harness.enqueue(during.flatMap { RelayEvents.lifecycle(order: $0) })
        try await Task.sleep(for: .seconds(1))
        #expect(try await harness.status().depth == 15, "nothing is marked published while the broker is down")
        try await BrokerFixture.brokerScript("start")
        #expect(try await harness.drained(within: .seconds(60)))

        // The durable work queue of the product topology holds everything, once.
        let observer = try await AMQPConnection.connect(url: url, connectionName: "outage-observer")
        let consumer = DeliveryBuffer(try await observer.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 100))
        let deliveries = try await consumer.take(18)
        #expect(deliveries.count == 18)
        #expect(Set(deliveries.compactMap(\.properties.messageID)).count == 18)
        for order in during + ["ord-before"] {
            let types = deliveries.filter { $0.properties.messageID?.hasPrefix("tienda/\(order)/") == true }.map(\.routingKey)
            #expect(types == ["checkout.created", "payment.pending", "payment.succeeded"], "\(order)")
        }
        #expect(try await consumer.take(1, timeout: .seconds(1)).isEmpty, "no duplicates")
        running.cancel()
        _ = try? await running.value
        consumer.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: url)
    }

    @Test("checkouts created over HTTP while the broker is down: answered 201, then every checkout.created arrives once, in order")
    func checkoutsDuringOutage() async throws {
        try await Stack.run { stack in
            try await stack.declareProductTopology()
            try await BrokerFixture.brokerScript("stop")
            var orders: [String] = []
            for index in 1...6 {
                let order = "ord-outage-\(index)"
                let response = try await stack.createCheckout(
                    GatewayFixture.checkoutBody(orderID: order, ui: ["redirect", "widget", "payment_intent"][index % 3]))
                #expect(response.status == .created, "the outbox holds events while the broker is down")
                orders.append(order)
            }
            let waiting = try await OutboxStatus.read(stack.configuration.openStore())
            #expect(waiting.depth == 6)
            try await BrokerFixture.brokerScript("start")

            let observer = try await AMQPConnection.connect(url: stack.configuration.amqpURL, connectionName: "outage-reader")
            let queue = DeliveryBuffer(try await observer.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 50))
            let deliveries = try await queue.take(6, timeout: .seconds(45))
            #expect(deliveries.compactMap(\.properties.messageID) == orders.map { "shop/\($0)/checkout.created/1" })
            #expect(try await queue.take(1, timeout: .seconds(2)).isEmpty, "no duplicates")
            queue.stop()
            await observer.close()
        }
    }
}
