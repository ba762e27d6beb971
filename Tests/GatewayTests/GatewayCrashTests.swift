import AMQP
import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

@testable import Gateway

@Suite("The gateway process killed between commit and publish", .needsBroker, .tags(.broker))
struct GatewayCrashTests {
    @Test(
        "SIGKILL after webhooks were committed and before any was published: all are published after restart, once",
        arguments: StoreEngine.available)
    func killedBeforePublishing(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(
            engine, ui: .paymentIntent, providerID: "pi_crash_0", checkoutID: "chk_crash_0", orderID: "ord-crash-0")
        for index in 1..<40 {
            try await store.addCheckout(
                ui: .paymentIntent, providerID: "pi_crash_\(index)", checkoutID: "chk_crash_\(index)", orderID: "ord-crash-\(index)",
                attempt: 1)
        }
        let bodies = (0..<40).map {
            FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent("pi_crash_\($0)", status: "succeeded", checkout: nil))
        }
        let url = try await BrokerFixture.virtualHost()
        let refusing = try RefusingPort()
        var environment = [
            "GATEWAY_PORT": "0", "GATEWAY_ADMIN_PORT": "0", "GATEWAY_DATABASE_URL": store.setting, "LOG_LEVEL": "info",
            "FINTOC_API_URL": "http://127.0.0.1:\(refusing.port)", "GATEWAY_RECONCILE_INTERVAL": "0",
            // First life: the broker cannot be reached, so committed events cannot be published.
            "AMQP_URL": "amqp://guest:guest@127.0.0.1:\(refusing.port)/",
        ]
        let first = try RunningExecutable("payments-gateway", ["serve"], environment: environment)
        let port = try #require(try await first.listeningPort(matching: { !$0.contains("listener=admin") }), "\(first.output)")
        let statuses = try await WebhookBurst.post(bodies, to: port, concurrency: 8)
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(try await OutboxStatus.read(store.database).depth == 40, "committed, not published")
        #expect(try await first.stop(signal: SIGKILL) == SIGKILL)

        // The worker's side of the topology exists, as it would in the product.
        let observer = try await AMQPConnection.connect(url: url, connectionName: "crash-observer")
        try await observer.declare(AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions())))
        let queue = DeliveryBuffer(try await observer.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 100))
        environment["AMQP_URL"] = url
        let second = try RunningExecutable("payments-gateway", ["serve"], environment: environment)
        let deliveries = try await queue.take(40, timeout: .seconds(30))
        #expect(
            Set(deliveries.compactMap(\.properties.messageID)) == Set((0..<40).map { "shop/ord-crash-\($0)/payment.succeeded/1" }),
            "\(second.output.suffix(2000))")
        #expect(try await queue.take(1, timeout: .seconds(2)).isEmpty, "each once")
        #expect(try await OutboxStatus.read(store.database).depth == 0)
        #expect(try await second.stop() == 0, "SIGTERM stops it cleanly")
        queue.stop()
        await observer.close()
        refusing.release()
        await BrokerFixture.deleteVirtualHost(of: url)
    }
}
