import AMQP
import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

/// The users and permissions of `deploy/rabbitmq/definitions.json` on the real test broker: each
/// is created (under a unique name, with the file's own password hash) with its permissions on a
/// fresh virtual host, logs in with the documented development password, and is allowed exactly
/// what its service does.
@Suite("deploy/rabbitmq/definitions.json users on a real broker", .needsBroker, .tags(.broker))
struct DeployPermissionsTests {
    struct Access: Decodable {
        struct User: Decodable {
            var name: String
            var passwordHash: String
            var hashingAlgorithm: String
            var tags: [String]

            enum CodingKeys: String, CodingKey {
                case name, tags
                case passwordHash = "password_hash"
                case hashingAlgorithm = "hashing_algorithm"
            }
        }

        struct Permission: Decodable {
            var user: String
            var configure: String
            var write: String
            var read: String
        }

        var users: [User]
        var permissions: [Permission]
    }

    /// The development passwords the README documents (and docker-compose.yml defaults to).
    static let passwords = ["gateway": "cobro-gateway-dev", "worker": "cobro-worker-dev", "cobro-admin": "cobro-admin-dev"]

    /// The file's users on a fresh vhost; `url(for:)` gives each one's AMQP URL.
    struct DeployedUsers {
        let vhostURL: String
        let suffix = "-" + UUID().uuidString.prefix(8).lowercased()

        static func create() async throws -> DeployedUsers {
            let data = try Data(contentsOf: BrokerFixture.repositoryRoot.appendingPathComponent("deploy/rabbitmq/definitions.json"))
            let access = try JSONDecoder().decode(Access.self, from: data)
            let deployed = DeployedUsers(vhostURL: try await BrokerFixture.virtualHost())
            let vhost = try #require(URLComponents(string: deployed.vhostURL)?.path.dropFirst())
            for user in access.users {
                let body = try JSONSerialization.data(withJSONObject: [
                    "password_hash": user.passwordHash, "hashing_algorithm": user.hashingAlgorithm,
                    "tags": user.tags.joined(separator: ","),
                ])
                try await BrokerFixture.management(
                    "PUT", "api/users/\(user.name + deployed.suffix)", body: String(decoding: body, as: UTF8.self))
                let permission = try #require(access.permissions.first { $0.user == user.name })
                let rules = try JSONSerialization.data(withJSONObject: [
                    "configure": permission.configure, "write": permission.write, "read": permission.read,
                ])
                try await BrokerFixture.management(
                    "PUT", "api/permissions/\(vhost)/\(user.name + deployed.suffix)",
                    body: String(decoding: rules, as: UTF8.self))
            }
            return deployed
        }

        func url(for user: String) throws -> String {
            var components = try #require(URLComponents(string: vhostURL))
            components.user = user + suffix
            let password: String = try #require(DeployPermissionsTests.passwords[user], "no documented password for \(user)")
            components.password = password
            return try #require(components.string)
        }

        func connect(_ user: String) async throws -> AMQPConnection {
            var configuration = try AMQPConfiguration(url: url(for: user), connectionName: "deploy-permissions-\(user)")
            configuration.reconnectBackoff = Backoff(base: .milliseconds(20), cap: .milliseconds(200))
            return try await AMQPConnection.connect(configuration)
        }

        func remove() async {
            for user in DeployPermissionsTests.passwords.keys {
                _ = try? await BrokerFixture.management("DELETE", "api/users/\(user + suffix)", body: nil)
            }
            await BrokerFixture.deleteVirtualHost(of: vhostURL)
        }
    }

    /// Runs `body` with the users in place and removes them and their vhost afterwards, whatever
    /// happens.
    static func withUsers(_ body: (DeployedUsers) async throws -> Void) async throws {
        let users = try await DeployedUsers.create()
        do {
            try await body(users)
        } catch {
            await users.remove()
            throw error
        }
        await users.remove()
    }

    static func topology() throws -> Topology {
        try Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions()))
    }

    static func refused(_ outcome: PublishOutcome) -> Bool {
        if case .connectionLost(let error) = outcome { return error.replyCode == 403 }
        return false
    }

    @Test("the worker declares the whole topology; the gateway publishes an event that reaches the worker's queue")
    func eventPath() async throws {
        try await Self.withUsers { users in
            // The worker declares everything: the quorum queue with its dead-letter exchange, the
            // retry queues dead-lettering through the default exchange, the bindings.
            let worker = try await users.connect("worker")
            try await worker.declare(Self.topology(), remember: false)

            // The gateway declares what its start-up declares.
            let gateway = try await users.connect("gateway")
            try await gateway.declare(
                Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.publisherDefinitions())), remember: false)
            let outcome = await gateway.publish(
                Data(#"{"type":"payment.succeeded"}"#.utf8), exchange: PaymentsTopology.paymentsExchange,
                routingKey: "payment.succeeded")
            #expect(outcome == .acked, "the gateway's publish to payments.events: \(outcome)")

            let deliveries = DeliveryBuffer(try await worker.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 10))
            let received = try await deliveries.take(1)
            #expect(received.first?.routingKey == "payment.succeeded")
            deliveries.stop()

            // Retry, park, redrive through the default exchange, and the worker's own events.
            let retry = try #require(PaymentsTopology.retrySteps.first).queue
            #expect(await worker.publish(Data("r".utf8), exchange: PaymentsTopology.retryExchange, routingKey: retry) == .acked)
            #expect(await worker.publish(Data("p".utf8), exchange: PaymentsTopology.deadLetterExchange, routingKey: "") == .acked)
            #expect(await worker.publish(Data("d".utf8), exchange: "", routingKey: PaymentsTopology.fulfillmentQueue) == .acked)
            #expect(
                await worker.publish(
                    Data("o".utf8), exchange: PaymentsTopology.fulfillmentEventsExchange, routingKey: "order.confirmed",
                    mandatory: false) == .acked)
            #expect(try await worker.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 1)

            await gateway.close()
            await worker.close()
        }
    }

    @Test("the gateway is refused declaring queues or other exchanges, reading, and publishing anywhere but payments.events")
    func gatewayRefusals() async throws {
        try await Self.withUsers { users in
            let worker = try await users.connect("worker")
            try await worker.declare(Self.topology(), remember: false)
            let gateway = try await users.connect("gateway")

            let forbidden = [
                Topology(queues: [.init(name: "gateway-own-queue", durable: false, autoDelete: true)]),
                Topology(exchanges: [.init(name: PaymentsTopology.fulfillmentEventsExchange, type: "topic")]),
                // The whole product topology: the worker's to declare, never the gateway's.
                try Self.topology(),
            ]
            for topology in forbidden {
                do {
                    try await gateway.declare(topology, remember: false)
                    Issue.record("the gateway declared \(topology)")
                } catch let error as AMQPError {
                    #expect(error.replyCode == 403, "\(error)")
                }
            }
            #expect(
                Self.refused(
                    await gateway.publish(
                        Data("x".utf8), exchange: PaymentsTopology.fulfillmentEventsExchange, routingKey: "order.confirmed")))
            #expect(Self.refused(await gateway.publish(Data("x".utf8), exchange: "", routingKey: PaymentsTopology.fulfillmentQueue)))
            do {
                let consumer = try await gateway.consume(queue: PaymentsTopology.fulfillmentQueue)
                await consumer.cancel()
                Issue.record("the gateway consumed the worker's queue")
            } catch let error as AMQPError {
                #expect(error.replyCode == 403, "\(error)")
            }
            // Still usable after every refusal, for the one thing it is for.
            #expect(
                await gateway.publish(Data("y".utf8), exchange: PaymentsTopology.paymentsExchange, routingKey: "checkout.created") == .acked
            )
            await gateway.close()
            await worker.close()
        }
    }

    @Test("the worker is refused publishing payment events and declaring other teams' queues")
    func workerRefusals() async throws {
        try await Self.withUsers { users in
            let worker = try await users.connect("worker")
            try await worker.declare(Self.topology(), remember: false)
            #expect(
                Self.refused(
                    await worker.publish(Data("x".utf8), exchange: PaymentsTopology.paymentsExchange, routingKey: "payment.succeeded")))
            do {
                try await worker.declare(
                    Topology(queues: [.init(name: "warehouse.payments", durable: false, autoDelete: true)]), remember: false)
                Issue.record("the worker declared another team's queue")
            } catch let error as AMQPError {
                #expect(error.replyCode == 403, "\(error)")
            }
            await worker.close()
        }
    }

    @Test("the operator logs in as cobro-admin with the documented password")
    func operatorLogin() async throws {
        try await Self.withUsers { users in
            let admin = try await users.connect("cobro-admin")
            #expect(admin.isConnected)
            await admin.close()
        }
    }
}
