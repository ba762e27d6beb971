import AMQP
import Foundation
import Testing

/// Regressions found in review: a close racing a connection error, and a message whose headers
/// are larger than a frame.
extension BrokerTests {
    @Test("close while publishes drain and a command fails at the connection level: every caller answered once")
    func closeDuringDrainWithConnectionError() async throws {
        let connection = try await TestBroker.connect(window: 64)
        let queue = TestBroker.unique("drain")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false, autoDelete: true)]), remember: false)
        let body = Data(repeating: 0x41, count: 512)
        let publisher = Task {
            await withTaskGroup(of: PublishOutcome.self) { group in
                for _ in 0..<5_000 {
                    group.addTask {
                        await connection.publish(
                            body, exchange: "", routingKey: queue, properties: BasicProperties(deliveryMode: .transient))
                    }
                }
                return await group.reduce(into: 0) { count, _ in count += 1 }
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        let closer = Task { await connection.close() }
        try await Task.sleep(for: .milliseconds(5))
        // The broker answers an unknown exchange type with a connection error (503).
        let bogus = Topology(exchanges: [.init(name: TestBroker.unique("bogus"), type: "no-such-type", durable: false, autoDelete: true)])
        await #expect(throws: AMQPError.self) { try await connection.declare(bogus, remember: false) }
        await closer.value
        #expect(await publisher.value == 5_000, "every publish got exactly one outcome")
    }

    @Test("close racing a failing command: once close returns, the connection stays closed", arguments: 0..<5)
    func closeRacingAFailure(round: Int) async throws {
        let connection = try await TestBroker.connect()
        let bogus = Topology(exchanges: [
            .init(name: TestBroker.unique("bogus-\(round)"), type: "no-such-type", durable: false, autoDelete: true)
        ])
        async let declared: Void = connection.declare(bogus, remember: false)
        async let closed: Void = connection.close()
        _ = try? await declared
        await closed
        try await Task.sleep(for: .milliseconds(500))
        #expect(!connection.isConnected)
        #expect(connection.connectionCount == 1, "no reconnection after close returned")
    }

    @Test("headers larger than a frame: that publish is invalid; the connection and its other publishes carry on")
    func oversizedHeaders() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("poison")
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false, autoDelete: true)]), remember: false)
        let huge = String(repeating: "x", count: 200_000)
        for _ in 0..<3 {
            let poison = await connection.publish(
                Data("hi".utf8), exchange: "", routingKey: queue,
                properties: BasicProperties(headers: ["traceparent": .string(huge)]))
            guard case .invalid(let error) = poison else {
                Issue.record("expected invalid, got \(poison)")
                break
            }
            #expect("\(error)".contains("frame size"))
            #expect(await connection.publish(Data("ok".utf8), exchange: "", routingKey: queue) == .acked)
        }
        #expect(connection.connectionCount == 1, "the connection was never torn down")
        #expect(try await connection.inspectQueue(queue).messageCount == 3)
        await connection.close()
    }
}
