import Foundation
import PaymentsCore
import Testing

/// `deploy/rabbitmq/definitions.json` is what docker-compose's broker loads at boot. Its topology
/// must be the one the services declare, and its users' permissions must let each service do
/// exactly its job: checked here by evaluating the regexes the way RabbitMQ does against every
/// name the topology holds.
@Suite("deploy/rabbitmq/definitions.json matches the code")
struct DeployDefinitionsTests {
    static let file = Fixtures.repositoryRoot.appendingPathComponent("deploy/rabbitmq/definitions.json")
    static let regenerate = "regenerate it with scripts/export-definitions"

    /// The parts of the document the topology type does not describe.
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
            var vhost: String
            var configure: String
            var write: String
            var read: String
        }

        struct VirtualHost: Decodable {
            var name: String
        }

        var users: [User]
        var vhosts: [VirtualHost]
        var permissions: [Permission]
    }

    static func data() throws -> Data {
        try Data(contentsOf: file)
    }

    static func permission(of user: String) throws -> Access.Permission {
        let access = try JSONDecoder().decode(Access.self, from: data())
        return try #require(access.permissions.first { $0.user == user && $0.vhost == "/" }, "no permissions for \(user) on /")
    }

    /// RabbitMQ's check: the regex matches somewhere in the resource name (the patterns anchor
    /// themselves). The default exchange is checked under the name `amq.default`.
    static func allows(_ pattern: String, _ name: String) throws -> Bool {
        let regex = try NSRegularExpression(pattern: pattern)
        let resource = name.isEmpty ? "amq.default" : name
        return regex.firstMatch(in: resource, range: NSRange(resource.startIndex..., in: resource)) != nil
    }

    static let topology = PaymentsTopology.definitions()
    static var exchangeNames: [String] { topology.exchanges.map(\.name) }
    static var queueNames: [String] { topology.queues.map(\.name) }
    /// Names the product does not own: other teams' queues bound to payments.events, the
    /// broker's own exchanges, look-alikes that an unanchored regex would let through.
    static let foreignNames = [
        "warehouse.payments", "analytics.events", "payments.events.audit", "xpayments.events",
        "amq.topic", "amq.rabbitmq.trace", "fulfillment", "my.fulfillment.payments",
    ]

    @Test("the topology is exactly PaymentsTopology.definitions(): exchanges, queues with their arguments, bindings")
    func topologyMatches() throws {
        let file = try JSONDecoder().decode(BrokerDefinitions.self, from: Self.data())
        let code = Self.topology
        #expect(Set(file.exchanges) == Set(code.exchanges), "exchanges differ; \(Self.regenerate)")
        #expect(Set(file.queues) == Set(code.queues), "queues differ; \(Self.regenerate)")
        #expect(Set(file.bindings) == Set(code.bindings), "bindings differ; \(Self.regenerate)")
        #expect(
            file.exchanges.count == code.exchanges.count && file.queues.count == code.queues.count
                && file.bindings.count == code.bindings.count, "the file repeats an entry")
        let work = try #require(file.queues.first { $0.name == PaymentsTopology.fulfillmentQueue })
        #expect(work.arguments["x-queue-type"] == .string("quorum"))
        #expect(work.arguments["x-delivery-limit"] == .int(PaymentsTopology.deliveryLimit))
    }

    @Test("the vhost, one user per service and an operator, with salted SHA-256 hashes and no plain passwords")
    func usersAndVirtualHost() throws {
        let data = try Self.data()
        let access = try JSONDecoder().decode(Access.self, from: data)
        #expect(access.vhosts.map(\.name) == ["/"])
        #expect(Set(access.users.map(\.name)) == ["gateway", "worker", "cobro-admin"])
        for user in access.users {
            #expect(user.hashingAlgorithm == "rabbit_password_hashing_sha256", "\(user.name)")
            // base64 of a 4-byte salt and a 32-byte SHA-256 digest.
            #expect(Data(base64Encoded: user.passwordHash)?.count == 36, "\(user.name)'s password_hash is not salt + SHA-256")
            #expect(access.permissions.contains { $0.user == user.name && $0.vhost == "/" }, "\(user.name) has no permissions on /")
        }
        #expect(access.users.first { $0.name == "cobro-admin" }?.tags == ["administrator"])
        let serviceUsers = access.users.filter { $0.name != "cobro-admin" }
        #expect(serviceUsers.allSatisfy { $0.tags.isEmpty }, "service users need no management access")
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("\"password\""), "plain passwords have no place in the file")
        #expect(!text.contains("guest"), "guest is not part of the deployment")
    }

    @Test("the gateway may declare and publish to payments.events, and nothing else")
    func gatewayPermissions() throws {
        let gateway = try Self.permission(of: "gateway")
        let exchange = PaymentsTopology.paymentsExchange
        #expect(try Self.allows(gateway.configure, exchange))
        #expect(try Self.allows(gateway.write, exchange))
        let others = Self.exchangeNames.filter { $0 != exchange } + Self.queueNames + Self.foreignNames + [""]
        for name in others {
            #expect(try !Self.allows(gateway.configure, name), "the gateway could declare or delete \(name)")
            #expect(try !Self.allows(gateway.write, name), "the gateway could publish to or bind into \(name)")
        }
        for name in Self.exchangeNames + Self.queueNames + Self.foreignNames + [""] {
            #expect(try !Self.allows(gateway.read, name), "the gateway could read \(name)")
        }
    }

    @Test("what the gateway declares at start, PaymentsTopology.publisherDefinitions(), is within its permissions")
    func gatewayDeclaration() throws {
        let gateway = try Self.permission(of: "gateway")
        let declared = PaymentsTopology.publisherDefinitions()
        #expect(!declared.exchanges.isEmpty)
        for exchange in declared.exchanges {
            #expect(
                try Self.allows(gateway.configure, exchange.name), "the gateway's start-up declaration of \(exchange.name) would be refused"
            )
        }
        #expect(declared.queues.isEmpty && declared.bindings.isEmpty, "the gateway's user may declare no queue or binding")
    }

    @Test("the worker may do everything its topology needs: declare, dead-letter, bind, consume, retry, park, redrive")
    func workerPermissions() throws {
        let worker = try Self.permission(of: "worker")
        let topology = Self.topology
        for exchange in topology.exchanges {
            #expect(try Self.allows(worker.configure, exchange.name), "cannot declare exchange \(exchange.name)")
        }
        for queue in topology.queues {
            #expect(try Self.allows(worker.configure, queue.name), "cannot declare queue \(queue.name)")
            // Declaring a queue with a dead-letter exchange needs read on the queue and write on
            // that exchange.
            if case .string(let deadLetter)? = queue.arguments["x-dead-letter-exchange"] {
                #expect(try Self.allows(worker.read, queue.name), "cannot declare \(queue.name) with its dead-letter exchange (read)")
                #expect(try Self.allows(worker.write, deadLetter), "cannot declare \(queue.name) dead-lettering to '\(deadLetter)' (write)")
            }
        }
        for binding in topology.bindings {
            #expect(try Self.allows(worker.read, binding.source), "cannot bind from \(binding.source) (read)")
            #expect(try Self.allows(worker.write, binding.destination), "cannot bind into \(binding.destination) (write)")
        }
        // Consume the work queue, list and redrive the parked ones through the default exchange.
        for queue in [PaymentsTopology.fulfillmentQueue, PaymentsTopology.deadLetterQueue] {
            #expect(try Self.allows(worker.read, queue), "cannot consume \(queue)")
        }
        for exchange in [
            PaymentsTopology.retryExchange, PaymentsTopology.deadLetterExchange, PaymentsTopology.fulfillmentEventsExchange, "",
        ] {
            #expect(try Self.allows(worker.write, exchange), "cannot publish to '\(exchange)'")
        }
    }

    @Test("the worker never publishes domain events and touches no one else's queues")
    func workerLimits() throws {
        let worker = try Self.permission(of: "worker")
        #expect(try !Self.allows(worker.write, PaymentsTopology.paymentsExchange), "the worker could publish payment events")
        for name in Self.foreignNames {
            #expect(try !Self.allows(worker.configure, name), "the worker could declare or delete \(name)")
            #expect(try !Self.allows(worker.write, name), "the worker could write to \(name)")
            #expect(try !Self.allows(worker.read, name), "the worker could read \(name)")
        }
    }
}
