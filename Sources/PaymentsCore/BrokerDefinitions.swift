/// The product's topology as a RabbitMQ definitions document (the format of
/// `rabbitmqctl export_definitions` and the management API).
///
/// It is the one description of the topology: both services declare it at start, and operators
/// load the same document (with users and permissions added) into their broker, so the two can
/// never drift apart.
public struct BrokerDefinitions: Sendable, Hashable, Codable {
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public struct Exchange: Sendable, Hashable, Codable {
        public var name: String
        public var vhost: String
        /// `topic`, `direct`, `fanout` or `headers`.
        public var type: String
        public var durable: Bool
        public var autoDelete: Bool
        public var `internal`: Bool
        public var arguments: [String: ArgumentValue]

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, `internal`, arguments
            case autoDelete = "auto_delete"
        }
    }

    public struct Queue: Sendable, Hashable, Codable {
        public var name: String
        public var vhost: String
        public var durable: Bool
        public var autoDelete: Bool
        /// `x-queue-type`, `x-dead-letter-exchange`, `x-message-ttl`, `x-delivery-limit`, …
        public var arguments: [String: ArgumentValue]

        enum CodingKeys: String, CodingKey {
            case name, vhost, durable, arguments
            case autoDelete = "auto_delete"
        }
    }

    public struct Binding: Sendable, Hashable, Codable {
        public var source: String
        public var vhost: String
        public var destination: String
        /// `queue` or `exchange`.
        public var destinationType: String
        public var routingKey: String
        public var arguments: [String: ArgumentValue]

        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, arguments
            case destinationType = "destination_type"
            case routingKey = "routing_key"
        }
    }

    /// An argument value as RabbitMQ's JSON carries it.
    public enum ArgumentValue: Sendable, Hashable, Codable {
        case string(String)
        case int(Int)
        case bool(Bool)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int.self) {
                self = .int(value)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            }
        }
    }
}

extension PaymentsTopology {
    /// What the gateway declares: only the exchange it publishes to (its broker user may
    /// configure nothing else).
    public static func publisherDefinitions(vhost: String = "/") -> BrokerDefinitions {
        let all = definitions(vhost: vhost)
        return BrokerDefinitions(exchanges: all.exchanges.filter { $0.name == paymentsExchange }, queues: [], bindings: [])
    }

    /// The whole product topology in `vhost` ("/" by default).
    public static func definitions(vhost: String = "/") -> BrokerDefinitions {
        func exchange(_ name: String, _ type: String) -> BrokerDefinitions.Exchange {
            .init(name: name, vhost: vhost, type: type, durable: true, autoDelete: false, internal: false, arguments: [:])
        }
        func queue(_ name: String, _ arguments: [String: BrokerDefinitions.ArgumentValue]) -> BrokerDefinitions.Queue {
            .init(name: name, vhost: vhost, durable: true, autoDelete: false, arguments: arguments)
        }
        func binding(_ source: String, _ queue: String, _ key: String) -> BrokerDefinitions.Binding {
            .init(source: source, vhost: vhost, destination: queue, destinationType: "queue", routingKey: key, arguments: [:])
        }

        let workQueue = queue(
            fulfillmentQueue,
            [
                "x-queue-type": .string("quorum"),
                "x-dead-letter-exchange": .string(deadLetterExchange),
                "x-delivery-limit": .int(deliveryLimit),
            ])
        let parkedQueue = queue(deadLetterQueue, ["x-queue-type": .string("quorum")])
        // Retry queues are classic: they only hold a message for its delay, then the broker
        // dead-letters it back to the work queue through the default exchange.
        let retryQueues = retrySteps.map { step in
            queue(
                step.queue,
                [
                    "x-queue-type": .string("classic"),
                    "x-message-ttl": .int(step.delayMilliseconds),
                    "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(fulfillmentQueue),
                ])
        }

        return BrokerDefinitions(
            exchanges: [
                exchange(paymentsExchange, "topic"),
                exchange(deadLetterExchange, "fanout"),
                exchange(retryExchange, "direct"),
                exchange(fulfillmentEventsExchange, "topic"),
            ],
            queues: [workQueue, parkedQueue] + retryQueues,
            bindings: fulfillmentBindingKeys.map { binding(paymentsExchange, fulfillmentQueue, $0) }
                + [binding(deadLetterExchange, deadLetterQueue, "")]
                + retrySteps.map { binding(retryExchange, $0.queue, $0.queue) }
        )
    }
}
