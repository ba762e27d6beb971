import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Test("a message round-trips with all its properties and headers")
    func roundTrip() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("roundtrip")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false, autoDelete: false)]), remember: false)
        let stamp = Date(timeIntervalSince1970: 1_763_700_000)
        let properties = BasicProperties(
            contentType: "application/cloudevents+json", contentEncoding: "identity",
            headers: [
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "attempt": 3, "flag": true, "ratio": 0.5,
                "nested": ["k": "v", "n": 7], "list": ["a", 1, false],
            ],
            deliveryMode: .persistent, priority: 4, correlationID: "corr-1", replyTo: "replies",
            expiration: "60000", messageID: "msg-1", timestamp: stamp, type: "payment.succeeded",
            userID: "guest", appID: "amqp-tests")
        let body = Data(#"{"hello":"world"}"#.utf8)
        let outcome = await connection.publish(body, exchange: "", routingKey: queue, properties: properties)
        #expect(outcome == .acked)

        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        let deliveries = try await collect(consumer, count: 1)
        let delivery = try #require(deliveries.first)
        #expect(delivery.body == body)
        #expect(delivery.properties == properties)
        #expect(delivery.routingKey == queue)
        #expect(delivery.exchange == "")
        #expect(delivery.redelivered == false)
        #expect(delivery.deliveryCount == nil)
        #expect(delivery.headers["nested"]?.tableValue?["n"]?.intValue == 7)
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("an ordered batch arrives in its order; each outcome comes back at its index, a returned one included")
    func orderedBatch() async throws {
        let connection = try await TestBroker.connect(window: 16)
        let queue = TestBroker.unique("ordered")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false, autoDelete: false)]), remember: false)
        var messages = (0..<300).map { OutboundMessage(exchange: "", routingKey: queue, body: Data("m\($0)".utf8)) }
        messages[150] = OutboundMessage(exchange: "", routingKey: TestBroker.unique("nowhere"), body: Data("lost".utf8))
        let outcomes = await connection.publish(messages)
        #expect(outcomes.count == 300)
        #expect(outcomes.enumerated().allSatisfy { $0.offset == 150 ? $0.element != .acked : $0.element == .acked })
        guard case .returned(let code, _) = outcomes[150] else {
            Issue.record("expected returned, got \(outcomes[150])")
            return
        }
        #expect(code == 312)
        #expect(await connection.publish([]).isEmpty)

        let consumer = try await connection.consume(queue: queue, prefetch: 300)
        let bodies = try await collect(consumer, count: 299).map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies == (0..<300).filter { $0 != 150 }.map { "m\($0)" })
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("confirms: a pipelined batch is acked and stored")
    func confirms() async throws {
        let connection = try await TestBroker.connect(window: 64)
        let queue = TestBroker.unique("confirms")
        try await connection.declare(Topology(queues: [.init(name: queue)]), remember: false)
        let outcomes = await withTaskGroup(of: PublishOutcome.self) { group in
            for index in 0..<500 {
                group.addTask {
                    await connection.publish(Data("m\(index)".utf8), exchange: "", routingKey: queue)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 500)
        #expect(outcomes.allSatisfy { $0 == .acked })
        #expect(try await connection.inspectQueue(queue).messageCount == 500)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("an unroutable mandatory publish comes back as returned, not acked")
    func unroutableIsReturned() async throws {
        let connection = try await TestBroker.connect()
        let exchange = TestBroker.unique("unroutable")
        let queue = TestBroker.unique("routable")
        try await connection.declare(
            Topology(
                exchanges: [.init(name: exchange, type: "direct", durable: false, autoDelete: true)],
                queues: [.init(name: queue, durable: false)],
                bindings: [.init(source: exchange, destination: queue, routingKey: "yes")]), remember: false)
        // Routable and unroutable messages interleaved, so the return must be matched to the
        // right publish among several unconfirmed ones.
        let outcomes = await withTaskGroup(of: (Int, PublishOutcome).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let key = index % 4 == 0 ? "nowhere" : "yes"
                    return (index, await connection.publish(Data("m\(index)".utf8), exchange: exchange, routingKey: key))
                }
            }
            return await group.reduce(into: [Int: PublishOutcome]()) { $0[$1.0] = $1.1 }
        }
        for (index, outcome) in outcomes {
            if index % 4 == 0 {
                #expect(outcome == .returned(replyCode: 312, replyText: "NO_ROUTE"), "message \(index)")
            } else {
                #expect(outcome == .acked, "message \(index)")
            }
        }
        try await connection.deleteQueue(queue)
        try await connection.deleteExchange(exchange)
        await connection.close()
    }

    @Test("publishing to a missing exchange fails with the broker's 404 and the connection stays usable")
    func missingExchange() async throws {
        let connection = try await TestBroker.connect()
        let outcome = await connection.publish(Data("x".utf8), exchange: TestBroker.unique("missing"), routingKey: "k")
        guard case .connectionLost(let error) = outcome else {
            Issue.record("expected a lost publish, got \(outcome)")
            return
        }
        #expect(error.replyCode == 404)
        #expect(error.replyText?.contains("NOT_FOUND - no exchange") == true)
        let queue = TestBroker.unique("after404")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        #expect(await connection.publish(Data("y".utf8), exchange: "", routingKey: queue) == .acked)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("a 1 MiB body crosses several frames intact")
    func largeBody() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("large")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        var generator = SystemRandomNumberGenerator()
        let body = Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(await connection.publish(body, exchange: "", routingKey: queue) == .acked)
        let consumer = try await connection.consume(queue: queue)
        let deliveries = try await collect(consumer, count: 1)
        #expect(deliveries.first?.body == body)
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("concurrent publishers on one connection all get their own confirms")
    func concurrentPublishers() async throws {
        let connection = try await TestBroker.connect(window: 32)
        let queue = TestBroker.unique("concurrent")
        try await connection.declare(Topology(queues: [.init(name: queue)]), remember: false)
        let acked = await withTaskGroup(of: Int.self) { group in
            for publisher in 0..<8 {
                group.addTask {
                    var acked = 0
                    for index in 0..<150 {
                        let outcome = await connection.publish(
                            Data("p\(publisher)-\(index)".utf8), exchange: "", routingKey: queue,
                            properties: BasicProperties(messageID: "p\(publisher)-\(index)"))
                        if outcome == .acked { acked += 1 }
                    }
                    return acked
                }
            }
            return await group.reduce(0, +)
        }
        #expect(acked == 1200)
        let consumer = try await connection.consume(queue: queue, prefetch: 200)
        let deliveries = try await collect(consumer, count: 1200)
        #expect(Set(deliveries.compactMap(\.properties.messageID)).count == 1200)
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("a connection idle for three heartbeat intervals still publishes")
    func heartbeatsWhileIdle() async throws {
        let connection = try await TestBroker.connect(name: "amqp-tests-heartbeat", heartbeat: 1)
        let queue = TestBroker.unique("heartbeat")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), remember: false)
        // The broker closes a connection that misses two heartbeats; idle for more than three.
        try await Task.sleep(for: .milliseconds(3_500))
        #expect(connection.isConnected)
        #expect(connection.connectionCount == 1, "the broker dropped the idle connection")
        #expect(await connection.publish(Data("still here".utf8), exchange: "", routingKey: queue) == .acked)
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}
