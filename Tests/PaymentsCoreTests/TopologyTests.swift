import Foundation
import PaymentsCore
import Testing

@Suite("Topology names and definitions")
struct TopologyTests {
    @Test("the work queue is a quorum queue bound to checkout.* and payment.*, parking to the DLQ")
    func workQueue() throws {
        let definitions = PaymentsTopology.definitions()
        let queue = try #require(definitions.queues.first { $0.name == "fulfillment.payments" })
        #expect(queue.durable && !queue.autoDelete)
        #expect(queue.arguments["x-queue-type"] == .string("quorum"))
        #expect(queue.arguments["x-dead-letter-exchange"] == .string("fulfillment.payments.dlx"))
        #expect(queue.arguments["x-delivery-limit"] == .int(PaymentsTopology.deliveryLimit))
        let keys = definitions.bindings.filter { $0.destination == queue.name && $0.source == "payments.events" }.map(\.routingKey)
        #expect(keys.sorted() == ["checkout.*", "payment.*"])
        #expect(definitions.bindings.contains { $0.source == "fulfillment.payments.dlx" && $0.destination == "fulfillment.payments.dlq" })
        let exchange = try #require(definitions.exchanges.first { $0.name == "payments.events" })
        #expect(exchange.type == "topic" && exchange.durable)
    }

    @Test("every event type's routing key reaches the work queue")
    func routingKeysBound() {
        for type in EventType.allCases {
            let matched = PaymentsTopology.fulfillmentBindingKeys.contains { pattern in
                let prefix = pattern.dropLast(1)
                return pattern.hasSuffix(".*") && type.routingKey.hasPrefix(prefix)
                    && !type.routingKey.dropFirst(prefix.count).contains(".")
            }
            #expect(matched, "\(type.routingKey) is not bound")
        }
    }

    @Test("retries grow from about a second to about a minute, each step back to the work queue")
    func retrySteps() throws {
        let steps = PaymentsTopology.retrySteps
        #expect(steps.count >= 3)
        #expect(steps.first?.delaySeconds == 1)
        #expect(steps.last?.delaySeconds == 60)
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $0.delaySeconds < $1.delaySeconds })
        let definitions = PaymentsTopology.definitions()
        for step in steps {
            let queue = try #require(definitions.queues.first { $0.name == step.queue })
            #expect(queue.arguments["x-message-ttl"] == .int(step.delayMilliseconds))
            #expect(queue.arguments["x-dead-letter-exchange"] == .string(""))
            #expect(queue.arguments["x-dead-letter-routing-key"] == .string(PaymentsTopology.fulfillmentQueue))
            #expect(
                definitions.bindings.contains {
                    $0.source == PaymentsTopology.retryExchange && $0.destination == step.queue && $0.routingKey == step.queue
                })
        }
    }

    @Test("the definitions document uses RabbitMQ's JSON names and reads back")
    func definitionsJSON() throws {
        let data = try JSONEncoder().encode(PaymentsTopology.definitions(vhost: "cobro"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let queue = try #require((json["queues"] as? [[String: Any]])?.first)
        #expect(Set(queue.keys) == ["name", "vhost", "durable", "auto_delete", "arguments"])
        #expect(queue["vhost"] as? String == "cobro")
        let binding = try #require((json["bindings"] as? [[String: Any]])?.first)
        #expect(Set(binding.keys) == ["source", "vhost", "destination", "destination_type", "routing_key", "arguments"])
        #expect(try JSONDecoder().decode(BrokerDefinitions.self, from: data) == PaymentsTopology.definitions(vhost: "cobro"))
    }

    @Test("every declared name is distinct")
    func distinctNames() {
        let definitions = PaymentsTopology.definitions()
        let names = definitions.queues.map(\.name) + definitions.exchanges.map(\.name)
        #expect(Set(names).count == names.count)
    }
}
