import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Test("a consumer that nacks sends the message to the dead-letter queue with x-death")
    func nackToDeadLetterQueue() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("work")
        let dlx = TestBroker.unique("dlx")
        let dlq = TestBroker.unique("dlq")
        try await connection.declare(
            Topology(
                exchanges: [.init(name: dlx, type: "fanout", durable: false, autoDelete: false)],
                queues: [
                    .init(name: queue, durable: false, arguments: ["x-dead-letter-exchange": .string(dlx)]),
                    .init(name: dlq, durable: false),
                ],
                bindings: [.init(source: dlx, destination: dlq)]), remember: false)
        #expect(
            await connection.publish(
                Data("bad".utf8), exchange: "", routingKey: queue,
                properties: BasicProperties(messageID: "poison")) == .acked)
        let consumer = try await connection.consume(queue: queue)
        _ = try await collect(consumer, count: 1) { try $0.nack(requeue: false) }
        let deadConsumer = try await connection.consume(queue: dlq)
        let dead = try #require(try await collect(deadConsumer, count: 1).first)
        #expect(dead.properties.messageID == "poison")
        let death = try #require(dead.deaths.first)
        #expect(death.reason == "rejected")
        #expect(death.queue == queue)
        #expect(death.count == 1)
        #expect(death.routingKeys == [queue])
        await consumer.cancel()
        await deadConsumer.cancel()
        try await connection.deleteQueue(queue)
        try await connection.deleteQueue(dlq)
        try await connection.deleteExchange(dlx)
        await connection.close()
    }

    @Test("a quorum queue counts deliveries and dead-letters at its delivery limit")
    func deliveryLimitOnQuorumQueue() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("quorum")
        let dlx = TestBroker.unique("limit-dlx")
        let dlq = TestBroker.unique("limit-dlq")
        try await connection.declare(
            Topology(
                exchanges: [.init(name: dlx, type: "fanout", durable: false, autoDelete: false)],
                queues: [
                    .quorum(queue, arguments: ["x-delivery-limit": 2, "x-dead-letter-exchange": .string(dlx)]),
                    .init(name: dlq, durable: false),
                ],
                bindings: [.init(source: dlx, destination: dlq)]), remember: false)
        #expect(
            await connection.publish(
                Data("flaky".utf8), exchange: "", routingKey: queue,
                properties: BasicProperties(messageID: "flaky")) == .acked)
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        // Delivered once, then redelivered up to the limit; each time handed back for a retry.
        let attempts = try await collect(consumer, count: 3) { try $0.nack(requeue: true) }
        #expect(attempts.map(\.deliveryCount) == [nil, 1, 2])
        #expect(attempts.map(\.redelivered) == [false, true, true])
        let deadConsumer = try await connection.consume(queue: dlq)
        let dead = try #require(try await collect(deadConsumer, count: 1).first)
        #expect(dead.properties.messageID == "flaky")
        #expect(dead.deaths.first?.reason == "delivery_limit")
        #expect(dead.deaths.first?.queue == queue)
        await consumer.cancel()
        await deadConsumer.cancel()
        try await connection.deleteQueue(queue)
        try await connection.deleteQueue(dlq)
        try await connection.deleteExchange(dlx)
        await connection.close()
    }

    @Test("reject with requeue redelivers; prefetch bounds unsettled deliveries")
    func rejectAndPrefetch() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("prefetch")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        for index in 0..<5 {
            #expect(await connection.publish(Data("\(index)".utf8), exchange: "", routingKey: queue) == .acked)
        }
        let consumer = try await connection.consume(queue: queue, prefetch: 2)
        // Hold the first two without settling: the broker must not send a third.
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        let second = try #require(try await iterator.next())
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await connection.inspectQueue(queue).messageCount == 3)
        try first.reject(requeue: true)
        try second.ack()
        var seen: [String] = []
        while seen.count < 4, let delivery = try await iterator.next() {
            seen.append(String(decoding: delivery.body, as: UTF8.self))
            if String(decoding: delivery.body, as: UTF8.self) == String(decoding: first.body, as: UTF8.self) {
                #expect(delivery.redelivered)
            }
            try delivery.ack()
        }
        #expect(Set(seen) == ["0", "2", "3", "4"])
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("deleting the queue under a consumer ends its sequence with consumerCancelled")
    func brokerCancelsConsumer() async throws {
        let connection = try await TestBroker.connect()
        let other = try await TestBroker.connect(name: "amqp-tests-deleter")
        let queue = TestBroker.unique("cancelled")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        let consumer = try await connection.consume(queue: queue)
        try await other.deleteQueue(queue)
        await #expect(throws: AMQPError.consumerCancelled(queue: queue, consumerTag: consumer.tag)) {
            for try await _ in consumer {}
        }
        // The connection carries on.
        #expect(
            await connection.publish(Data("x".utf8), exchange: "amq.topic", routingKey: "nobody")
                == .returned(replyCode: 312, replyText: "NO_ROUTE"))
        await other.close()
        await connection.close()
    }
}

extension BrokerTests {
    @Test("acks in any order, mixed with rejects, settle every delivery exactly once")
    func outOfOrderSettlement() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("settle")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        for index in 0..<12 {
            #expect(await connection.publish(Data("\(index)".utf8), exchange: "", routingKey: queue) == .acked)
        }
        let consumer = try await connection.consume(queue: queue, prefetch: 20)
        var iterator = consumer.makeAsyncIterator()
        var held: [Delivery] = []
        for _ in 0..<12 { held.append(try #require(try await iterator.next())) }
        // Later ones first, a gap held back, a reject in the middle, then the rest.
        for index in [1, 0, 3, 7, 6] { try held[index].ack() }
        try held[5].reject(requeue: false)
        try await Task.sleep(for: .milliseconds(50))
        for index in [2, 4, 11, 8, 10, 9] { try held[index].ack() }
        // Had any ack been sent twice or for an unknown tag, the broker would close the channel
        // and this consumer would see no more messages.
        #expect(await connection.publish(Data("after".utf8), exchange: "", routingKey: queue) == .acked)
        let after = try #require(try await iterator.next())
        #expect(String(decoding: after.body, as: UTF8.self) == "after")
        #expect(after.redelivered == false)
        try after.ack()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await connection.inspectQueue(queue).messageCount == 0)
        await consumer.cancel()
        // Cancelling would have requeued anything left unacknowledged.
        #expect(try await connection.inspectQueue(queue).messageCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}

extension BrokerTests {
    @Test("a consumer whose channel the broker closes is subscribed again")
    func consumerChannelLoss() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("channel-loss")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        #expect(await connection.publish(Data("first".utf8), exchange: "", routingKey: queue) == .acked)
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        // Settling twice is a protocol error: RabbitMQ closes the channel with 406.
        try first.reject(requeue: true)
        try first.reject(requeue: true)
        let again = try #require(try await iterator.next())
        #expect(String(decoding: again.body, as: UTF8.self) == "first")
        #expect(again.redelivered)
        try again.ack()
        #expect(await connection.publish(Data("second".utf8), exchange: "", routingKey: queue) == .acked)
        // "first" may come once more: the broker can redeliver it on the dying channel before
        // closing it, and an ack sent for that delivery is dropped with the channel.
        var bodies: [String] = []
        while bodies.last != "second", let delivery = try await iterator.next() {
            bodies.append(String(decoding: delivery.body, as: UTF8.self))
            try delivery.ack()
        }
        #expect(bodies.last == "second")
        #expect(bodies.dropLast().allSatisfy { $0 == "first" })
        #expect(connection.connectionCount == 1)
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}
