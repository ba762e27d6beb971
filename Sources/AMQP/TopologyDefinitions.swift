import Foundation

extension Topology {
    /// Reads the `exchanges`, `queues` and `bindings` of a RabbitMQ definitions export (the
    /// format of `rabbitmqctl export_definitions` and the management API), so the product can
    /// describe its topology once, hand the same document to operators, and have both services
    /// declare it. Users, permissions, vhosts, policies and parameters are ignored.
    ///
    /// - Parameter vhost: only entries of this virtual host; nil keeps every entry.
    public init(rabbitMQDefinitions data: Data, vhost: String? = nil) throws {
        let document: Definitions
        do {
            document = try JSONDecoder().decode(Definitions.self, from: data)
        } catch {
            throw AMQPError.invalidConfiguration("not a RabbitMQ definitions document: \(error)")
        }
        func keep(_ entryVhost: String?) -> Bool {
            guard let vhost else { return true }
            return (entryVhost ?? "/") == vhost
        }
        self.init(
            exchanges: (document.exchanges ?? []).filter { keep($0.vhost) }.map {
                Exchange(
                    name: $0.name, type: $0.type, durable: $0.durable ?? true, autoDelete: $0.autoDelete ?? false,
                    internal: $0.internal ?? false, arguments: ($0.arguments ?? [:]).mapValues(\.fieldValue))
            },
            queues: (document.queues ?? []).filter { keep($0.vhost) }.map {
                var arguments = ($0.arguments ?? [:]).mapValues(\.fieldValue)
                // Newer exports carry the queue type beside the arguments; the broker wants it as one.
                if let type = $0.type, arguments["x-queue-type"] == nil, type != "classic" {
                    arguments["x-queue-type"] = .string(type)
                }
                return Queue(
                    name: $0.name, durable: $0.durable ?? true, exclusive: $0.exclusive ?? false,
                    autoDelete: $0.autoDelete ?? false, arguments: arguments)
            },
            bindings: try (document.bindings ?? []).filter { keep($0.vhost) }.map {
                guard let destinationType = Binding.Destination(rawValue: $0.destinationType ?? "queue") else {
                    throw AMQPError.invalidConfiguration("binding destination_type must be queue or exchange")
                }
                return Binding(
                    source: $0.source, destination: $0.destination, destinationType: destinationType,
                    routingKey: $0.routingKey ?? "", arguments: ($0.arguments ?? [:]).mapValues(\.fieldValue))
            }
        )
    }
}

// The wire names of the definitions format, hence snake case.
private struct Definitions: Decodable {
    struct ExchangeEntry: Decodable {
        var name: String
        var vhost: String?
        var type: String
        var durable: Bool?
        var autoDelete: Bool?
        var `internal`: Bool?
        var arguments: [String: JSONArgument]?

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, `internal`, arguments
            case autoDelete = "auto_delete"
        }
    }

    struct QueueEntry: Decodable {
        var name: String
        var vhost: String?
        var type: String?
        var durable: Bool?
        var exclusive: Bool?
        var autoDelete: Bool?
        var arguments: [String: JSONArgument]?

        enum CodingKeys: String, CodingKey {
            case name, vhost, type, durable, exclusive, arguments
            case autoDelete = "auto_delete"
        }
    }

    struct BindingEntry: Decodable {
        var source: String
        var vhost: String?
        var destination: String
        var destinationType: String?
        var routingKey: String?
        var arguments: [String: JSONArgument]?

        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, arguments
            case destinationType = "destination_type"
            case routingKey = "routing_key"
        }
    }

    var exchanges: [ExchangeEntry]?
    var queues: [QueueEntry]?
    var bindings: [BindingEntry]?
}

/// A JSON argument value, told apart the way RabbitMQ's own import does: booleans, integers,
/// floats, strings, lists and objects.
private enum JSONArgument: Decodable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONArgument])
    case object([String: JSONArgument])
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONArgument].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONArgument].self))
        }
    }

    var fieldValue: FieldValue {
        switch self {
        case .bool(let v): .bool(v)
        case .int(let v): .int64(v)
        case .double(let v): .double(v)
        case .string(let v): .string(v)
        case .array(let v): .array(v.map(\.fieldValue))
        case .object(let v): .table(v.mapValues(\.fieldValue))
        case .null: .void
        }
    }
}
