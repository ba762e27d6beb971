import Foundation

/// The AMQP basic properties of a message.
///
/// Defaults to persistent delivery because a message the gateway publishes must survive a
/// broker restart once it is confirmed.
public struct BasicProperties: Sendable, Hashable {
    public enum DeliveryMode: UInt8, Sendable, Hashable {
        case transient = 1
        case persistent = 2
    }

    public var contentType: String?
    public var contentEncoding: String?
    public var headers: FieldTable
    public var deliveryMode: DeliveryMode?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    /// Second resolution on the wire.
    public var timestamp: Date?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: FieldTable = [:],
        deliveryMode: DeliveryMode? = .persistent, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil, timestamp: Date? = nil,
        type: String? = nil, userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}

/// A message to publish.
public struct OutboundMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    public var properties: BasicProperties
    /// Unroutable messages come back as `.returned` instead of vanishing.
    public var mandatory: Bool

    public init(
        exchange: String, routingKey: String, body: Data, properties: BasicProperties = BasicProperties(),
        mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

/// How the broker settled one publish.
public enum PublishOutcome: Sendable, Hashable {
    /// The broker took responsibility for the message (it is routed and, if persistent, stored).
    case acked
    /// The broker refused the message; publish it again later.
    case nacked
    /// No queue took the message (mandatory publish). The broker still acks such a message, but
    /// it is a failure: nobody will ever see it.
    case returned(replyCode: UInt16, replyText: String)
    /// The connection or channel went away before the broker settled the message; its fate is
    /// unknown, so publish it again (consumers absorb duplicates by message id).
    case connectionLost(AMQPError)
    /// The message was never sent because AMQP cannot carry it (`AMQPError.invalidMessage`);
    /// publishing it again will not help.
    case invalid(AMQPError)

    public var isAcked: Bool { self == .acked }
}
