/// Every failure the client reports, typed so callers can tell a broker refusal (with the
/// broker's own reply code and text) from a lost socket or a mistake in their configuration.
public enum AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection URL could not be understood; the text says which part and why.
    case invalidURL(String)
    /// A configuration value is unusable (for example a CA file that does not exist).
    case invalidConfiguration(String)
    /// librabbitmq reported a transport or protocol failure; `message` is its own error string.
    case socket(status: Int32, message: String)
    /// The message cannot be carried by AMQP (e.g. a routing key over 255 bytes); it was not sent.
    case invalidMessage(String)
    /// An operation did not complete in time.
    case timeout(String)
    /// The broker closed the whole connection (connection.close), e.g. 320 CONNECTION_FORCED.
    case connectionClosed(replyCode: UInt16, replyText: String)
    /// The broker closed a channel (channel.close), e.g. 406 PRECONDITION_FAILED or 404 NOT_FOUND.
    case channelClosed(replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16)
    /// The broker cancelled a consumer (basic.cancel), e.g. because its queue was deleted.
    case consumerCancelled(queue: String, consumerTag: String)
    /// The connection is between attempts to reconnect; retry later.
    case notConnected
    /// The application closed the connection.
    case closed
    /// The delivery came from an earlier connection or channel, so it can no longer be
    /// acknowledged; the broker will redeliver it.
    case staleDelivery(deliveryTag: UInt64)

    /// The broker's reply code, when the broker is the one refusing.
    public var replyCode: UInt16? {
        switch self {
        case .connectionClosed(let code, _), .channelClosed(let code, _, _, _): code
        default: nil
        }
    }

    /// The broker's reply text, when the broker is the one refusing.
    public var replyText: String? {
        switch self {
        case .connectionClosed(_, let text), .channelClosed(_, let text, _, _): text
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let why): "invalid AMQP URL: \(why)"
        case .invalidConfiguration(let why): "invalid AMQP configuration: \(why)"
        case .socket(let status, let message): "AMQP transport error \(status): \(message)"
        case .invalidMessage(let why): "message not publishable: \(why)"
        case .timeout(let what): "AMQP timeout: \(what)"
        case .connectionClosed(let code, let text): "connection closed by the broker: \(code) \(text)"
        case .channelClosed(let code, let text, let classID, let methodID):
            "channel closed by the broker: \(code) \(text) (class \(classID), method \(methodID))"
        case .consumerCancelled(let queue, let tag): "the broker cancelled consumer \(tag) of queue \(queue)"
        case .notConnected: "not connected to the broker (reconnecting)"
        case .closed: "the connection was closed by the application"
        case .staleDelivery(let tag): "delivery \(tag) belongs to a connection or channel that is gone"
        }
    }
}
