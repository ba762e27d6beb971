import AMQP
import Foundation
import Testing

@Suite("AMQP configuration and topology values")
struct ConfigurationTests {
    @Test("URL parts, defaults and percent-encoded virtual hosts")
    func parsesURLs() throws {
        let plain = try AMQPConfiguration(url: "amqp://gw:s%40cret@rabbit.local:5680/payments")
        #expect(plain.host == "rabbit.local")
        #expect(plain.port == 5680)
        #expect(plain.user == "gw")
        #expect(plain.password == "s@cret")
        #expect(plain.virtualHost == "payments")
        #expect(plain.tls == nil)

        let defaults = try AMQPConfiguration(url: "amqp://localhost")
        #expect(defaults.port == 5672)
        #expect(defaults.virtualHost == "/")
        #expect(defaults.user == "guest")
        #expect(try AMQPConfiguration(url: "amqp://h/%2F").virtualHost == "/")
        #expect(try AMQPConfiguration(url: "amqp://h/?heartbeat=5&connection_name=relay").heartbeat == 5)
        #expect(try AMQPConfiguration(url: "amqp://h/?connection_name=relay").connectionName == "relay")

        let secure = try AMQPConfiguration(url: "amqps://u:p@broker/?cacertfile=/etc/ca.pem&verify=verify_peer")
        #expect(secure.port == 5671)
        #expect(secure.tls?.caFile == "/etc/ca.pem")
    }

    @Test(
        "bad URLs are refused with a reason",
        arguments: [
            "http://localhost/", "amqp://:5672/", "amqp://h:99999/", "amqp://h/a/b", "amqp://h/?heartbeat=soon", "amqps://h/",
        ])
    func refusesBadURLs(url: String) {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
    }

    @Test("descriptions never show the password")
    func redactsPassword() throws {
        let configuration = try AMQPConfiguration(url: "amqp://gw:topsecret@h:5672/v")
        #expect(!configuration.description.contains("topsecret"))
        #expect(!String(reflecting: configuration).contains("topsecret"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("topsecret"))
        #expect(configuration.redactedURL == "amqp://gw:***@h:5672/v")
    }

    @Test("amqps with a missing CA file fails with a clear error")
    func missingCAFile() async throws {
        let configuration = try AMQPConfiguration(url: "amqps://guest:guest@127.0.0.1:5671/", caFile: "/nonexistent/ca.pem")
        await #expect(throws: AMQPError.invalidConfiguration("the CA file /nonexistent/ca.pem does not exist or is not readable")) {
            _ = try await AMQPConnection.connect(configuration)
        }
    }

    @Test("backoff grows exponentially up to the cap, jittered below it")
    func backoff() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 3) == .milliseconds(800))
        #expect(backoff.ceiling(attempt: 10) == .seconds(2))
        for attempt in 0..<12 {
            let delay = backoff.delay(attempt: attempt)
            #expect(delay >= .zero && delay <= backoff.ceiling(attempt: attempt))
        }
    }

    @Test("definitions documents: sections read, other sections ignored, types kept")
    func parsesDefinitions() throws {
        let json = """
            {"users":[{"name":"worker"}],"permissions":[],"policies":[{"name":"p"}],
             "exchanges":[{"name":"payments.events","vhost":"/","type":"topic","durable":true,"auto_delete":false,
                           "internal":false,"arguments":{}},
                          {"name":"other","vhost":"elsewhere","type":"fanout","durable":true,"auto_delete":false,
                           "internal":false,"arguments":{}}],
             "queues":[{"name":"fulfillment.payments","vhost":"/","durable":true,"auto_delete":false,
                        "arguments":{"x-queue-type":"quorum","x-delivery-limit":5,"x-dead-letter-exchange":"dlx",
                                     "x-single-active-consumer":true,"x-ratio":0.5}}],
             "bindings":[{"source":"payments.events","vhost":"/","destination":"fulfillment.payments",
                          "destination_type":"queue","routing_key":"payment.*","arguments":{}}]}
            """
        let all = try Topology(rabbitMQDefinitions: Data(json.utf8))
        #expect(all.exchanges.count == 2)
        let topology = try Topology(rabbitMQDefinitions: Data(json.utf8), vhost: "/")
        #expect(topology.exchanges == [.init(name: "payments.events", type: "topic")])
        let queue = try #require(topology.queues.first)
        #expect(queue.kind == .quorum)
        #expect(queue.arguments["x-delivery-limit"] == .int64(5))
        #expect(queue.arguments["x-dead-letter-exchange"] == .string("dlx"))
        #expect(queue.arguments["x-single-active-consumer"] == .bool(true))
        #expect(queue.arguments["x-ratio"] == .double(0.5))
        #expect(topology.bindings == [.init(source: "payments.events", destination: "fulfillment.payments", routingKey: "payment.*")])
        #expect(throws: AMQPError.self) { try Topology(rabbitMQDefinitions: Data("[1,2]".utf8)) }
    }

    @Test("merging topologies does not repeat entries")
    func mergesWithoutDuplicates() {
        let base = Topology(
            exchanges: [.init(name: "e")], queues: [.quorum("q")],
            bindings: [.init(source: "e", destination: "q", routingKey: "k")])
        let merged = base.merging(base).merging(Topology(queues: [.quorum("q2")]))
        #expect(merged.exchanges.count == 1)
        #expect(merged.queues.map(\.name) == ["q", "q2"])
        #expect(merged.bindings.count == 1)
    }
}
