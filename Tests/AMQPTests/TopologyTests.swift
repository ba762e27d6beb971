import AMQP
import Foundation
import Testing

extension BrokerTests {
    @Test("re-declaring the same topology is a no-op; a conflicting one fails with the broker's text")
    func conflictingDeclaration() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.unique("conflict")
        let topology = Topology(queues: [.init(name: queue, durable: false, arguments: ["x-message-ttl": 60_000])])
        try await connection.declare(topology, remember: false)
        try await connection.declare(topology, remember: false)

        let conflicting = Topology(queues: [.init(name: queue, durable: false, arguments: ["x-message-ttl": 1_000])])
        do {
            try await connection.declare(conflicting, remember: false)
            Issue.record("a conflicting declaration succeeded")
        } catch let error as AMQPError {
            #expect(error.replyCode == 406)
            #expect(
                error.replyText?.hasPrefix("PRECONDITION_FAILED - inequivalent arg 'x-message-ttl'") == true,
                "\(error)")
        }
        let quorumInstead = Topology(queues: [.quorum(queue)])
        await #expect(throws: AMQPError.self) { try await connection.declare(quorumInstead, remember: false) }

        // The channel error closed only the channel; the connection goes on.
        #expect(connection.isConnected)
        #expect(await connection.publish(Data("ok".utf8), exchange: "", routingKey: queue) == .acked)
        #expect(try await connection.inspectQueue(queue).messageCount == 1)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("a topology from a RabbitMQ definitions document is declared and routes")
    func definitionsTopology() async throws {
        let exchange = TestBroker.unique("events")
        let queue = TestBroker.unique("fulfil")
        let definitions = """
            {"rabbit_version":"3.10.0","users":[{"name":"gateway","password_hash":"x","tags":[]}],
             "vhosts":[{"name":"/"}],"permissions":[],"policies":[],
             "exchanges":[{"name":"\(exchange)","vhost":"/","type":"topic","durable":false,"auto_delete":true,
                           "internal":false,"arguments":{}}],
             "queues":[{"name":"\(queue)","vhost":"/","durable":true,"auto_delete":false,
                        "arguments":{"x-queue-type":"quorum","x-delivery-limit":5}}],
             "bindings":[{"source":"\(exchange)","vhost":"/","destination":"\(queue)","destination_type":"queue",
                          "routing_key":"payment.*","arguments":{}}]}
            """
        let topology = try Topology(rabbitMQDefinitions: Data(definitions.utf8))
        let connection = try await TestBroker.connect(topology: topology)
        #expect(await connection.publish(Data("paid".utf8), exchange: exchange, routingKey: "payment.succeeded") == .acked)
        #expect(
            await connection.publish(Data("?".utf8), exchange: exchange, routingKey: "refund.created")
                == .returned(replyCode: 312, replyText: "NO_ROUTE"))
        #expect(try await connection.inspectQueue(queue).messageCount == 1)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("the broker sees the connection name")
    func connectionName() async throws {
        let name = TestBroker.unique("named-connection")
        let connection = try await TestBroker.connect(name: name)
        var names: [String] = []
        for _ in 0..<40 {
            // The management API refreshes its connection list every few seconds.
            let data = try await TestBroker.management("connections")
            let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
            names = list.compactMap { ($0["client_properties"] as? [String: Any])?["connection_name"] as? String }
            if names.contains(name) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(names.contains(name))
        await connection.close()
    }

    @Test("wrong credentials fail the first connection with the broker's 403")
    func wrongCredentials() async throws {
        var configuration = try TestBroker.configuration()
        configuration.password = "wrong-password"
        do {
            let connection = try await AMQPConnection.connect(configuration)
            await connection.close()
            Issue.record("connected with a wrong password")
        } catch let error as AMQPError {
            #expect(error.replyCode == 403, "\(error)")
            #expect(!error.description.contains("wrong-password"))
        }
    }

    @Test("closing a connection ends its thread")
    func noThreadLeftBehind() async throws {
        // Warm up whatever Foundation and the test runner start once.
        let warmUp = try await TestBroker.connect()
        await warmUp.close()
        try await Task.sleep(for: .milliseconds(300))
        let before = threadCount()
        for _ in 0..<3 {
            let connection = try await TestBroker.connect()
            #expect(threadCount() >= before + 1, "the connection runs on its own thread")
            let queue = TestBroker.unique("threads")
            try await connection.declare(Topology(queues: [.init(name: queue, durable: false, autoDelete: true)]), remember: false)
            await connection.close()
        }
        // One dropped without close() ends its thread too.
        _ = try await TestBroker.connect(name: "amqp-tests-dropped")
        var after = threadCount()
        for _ in 0..<20 where after > before {
            try await Task.sleep(for: .milliseconds(100))
            after = threadCount()
        }
        #expect(after <= before, "threads before: \(before), after: \(after)")
    }
}

extension BrokerTests {
    @Test("amqps to a plain-TCP listener fails the TLS handshake with librabbitmq's error")
    func tlsHandshakeFailure() async throws {
        let plain = try TestBroker.configuration()
        let caFile = "/etc/ssl/certs/ca-certificates.crt"
        try #require(FileManager.default.isReadableFile(atPath: caFile))
        var configuration = try AMQPConfiguration(
            url: "amqps://guest:guest@\(plain.host):\(plain.port)/?connection_timeout=3000", caFile: caFile)
        configuration.reconnectBackoff = Backoff(base: .milliseconds(10), cap: .milliseconds(10))
        do {
            let connection = try await AMQPConnection.connect(configuration)
            await connection.close()
            Issue.record("a TLS connection to a plain listener succeeded")
        } catch let error as AMQPError {
            // librabbitmq's own words, e.g. "AMQP transport error -515: ...: SSL handshake failed".
            switch error {
            case .socket(_, let message): #expect(message.contains("SSL"), "\(message)")
            case .timeout: break
            default: Issue.record("unexpected error \(error)")
            }
            #expect(!error.description.contains("guest:guest"))
        }
    }
}
