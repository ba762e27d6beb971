import Foundation

/// One message handed to a consumer. It must be settled exactly once with `ack`, `nack` or
/// `reject`; until then the broker counts it against the consumer's prefetch.
public struct Delivery: Sendable {
    public let body: Data
    public let properties: BasicProperties
    public let exchange: String
    public let routingKey: String
    /// The broker delivered this message before (to this or another consumer) without an ack.
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let consumerTag: String
    let channel: UInt16
    let epoch: UInt64
    let settler: ConnectionDriver

    public var headers: FieldTable { properties.headers }

    /// How many times a quorum queue delivered the message before (`x-delivery-count`); nil on
    /// classic queues, which do not count.
    public var deliveryCount: Int? {
        headers["x-delivery-count"]?.intValue.map { Int($0) }
    }

    /// The dead-letter history the broker recorded in `x-death`, most recent first.
    public var deaths: [XDeath] {
        (headers["x-death"]?.arrayValue ?? []).compactMap { $0.tableValue.map(XDeath.init(table:)) }
    }

    /// Tells the broker the message is done with. Throws `staleDelivery` when the channel that
    /// carried it is gone (the broker will redeliver it).
    public func ack(multiple: Bool = false) throws {
        try settler.settle(.ack(multiple: multiple), tag: deliveryTag, channel: channel, epoch: epoch)
    }

    /// Refuses the message; without requeue it goes to the queue's dead-letter exchange if any.
    public func nack(requeue: Bool, multiple: Bool = false) throws {
        try settler.settle(.nack(requeue: requeue, multiple: multiple), tag: deliveryTag, channel: channel, epoch: epoch)
    }

    /// Like `nack` for a single message.
    public func reject(requeue: Bool) throws {
        try settler.settle(.reject(requeue: requeue), tag: deliveryTag, channel: channel, epoch: epoch)
    }
}

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack(multiple: Bool)
    case nack(requeue: Bool, multiple: Bool)
    case reject(requeue: Bool)
}

/// One entry of the `x-death` header: why and where a message was dead-lettered, and how often.
public struct XDeath: Sendable, Hashable {
    public var queue: String?
    /// `rejected`, `expired`, `maxlen` or `delivery_limit`.
    public var reason: String?
    public var count: Int64?
    public var exchange: String?
    public var routingKeys: [String]
    public var time: Date?

    public init(table: FieldTable) {
        queue = table["queue"]?.stringValue
        reason = table["reason"]?.stringValue
        count = table["count"]?.intValue
        exchange = table["exchange"]?.stringValue
        routingKeys = (table["routing-keys"]?.arrayValue ?? []).compactMap(\.stringValue)
        time = table["time"]?.dateValue
    }
}
