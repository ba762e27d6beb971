/// Exchanges, queues and bindings a service needs, as one value it declares at start and that
/// the connection re-declares after every reconnection. Declaring is idempotent: equal
/// declarations succeed, a declaration that differs from what the broker has fails with the
/// broker's 406 reply.
public struct Topology: Sendable, Hashable {
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public var isEmpty: Bool { exchanges.isEmpty && queues.isEmpty && bindings.isEmpty }

    /// Both topologies, the other's new entries after this one's (an entry already present is
    /// not repeated, so declaring the same thing twice does not grow what recovery re-declares).
    public func merging(_ other: Topology) -> Topology {
        Topology(
            exchanges: exchanges + other.exchanges.filter { !exchanges.contains($0) },
            queues: queues + other.queues.filter { !queues.contains($0) },
            bindings: bindings + other.bindings.filter { !bindings.contains($0) })
    }

    public struct Exchange: Sendable, Hashable {
        public var name: String
        /// `direct`, `topic`, `fanout`, `headers` or a plugin's type.
        public var type: String
        public var durable: Bool
        public var autoDelete: Bool
        public var `internal`: Bool
        public var arguments: FieldTable

        public init(
            name: String, type: String = "topic", durable: Bool = true, autoDelete: Bool = false,
            internal: Bool = false, arguments: FieldTable = [:]
        ) {
            self.name = name
            self.type = type
            self.durable = durable
            self.autoDelete = autoDelete
            self.internal = `internal`
            self.arguments = arguments
        }
    }

    public struct Queue: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case classic, quorum, stream
        }

        public var name: String
        public var durable: Bool
        public var exclusive: Bool
        public var autoDelete: Bool
        /// Includes `x-queue-type` when the queue is not classic, and e.g.
        /// `x-dead-letter-exchange`, `x-message-ttl`, `x-delivery-limit`.
        public var arguments: FieldTable

        public init(
            name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
            arguments: FieldTable = [:]
        ) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.arguments = arguments
        }

        /// A durable quorum queue; quorum queues cannot be exclusive or auto-deleted.
        public static func quorum(_ name: String, arguments: FieldTable = [:]) -> Queue {
            var all = arguments
            all["x-queue-type"] = "quorum"
            return Queue(name: name, durable: true, arguments: all)
        }

        public var kind: Kind {
            arguments["x-queue-type"]?.stringValue.flatMap(Kind.init(rawValue:)) ?? .classic
        }
    }

    public struct Binding: Sendable, Hashable {
        public enum Destination: String, Sendable, Hashable {
            case queue, exchange
        }

        public var source: String
        public var destination: String
        public var destinationType: Destination
        public var routingKey: String
        public var arguments: FieldTable

        public init(
            source: String, destination: String, destinationType: Destination = .queue,
            routingKey: String = "", arguments: FieldTable = [:]
        ) {
            self.source = source
            self.destination = destination
            self.destinationType = destinationType
            self.routingKey = routingKey
            self.arguments = arguments
        }
    }
}
