/// The RabbitMQ names of the product, spelled here and nowhere else.
///
/// Flow: the gateway publishes to the `payments.events` topic exchange with the event type as
/// routing key. The worker's quorum queue `fulfillment.payments` takes `checkout.*` and
/// `payment.*`. A transient failure sends the message through one of the retry queues, whose TTL
/// then dead-letters it back to the work queue through the default exchange; a message that can
/// never succeed, or has used its last try, is parked in `fulfillment.payments.dlq` by way of the
/// `fulfillment.payments.dlx` exchange. The worker's own outcomes go to `fulfillment.events`.
public enum PaymentsTopology {
    /// Topic exchange of the gateway's domain events (public contract).
    public static let paymentsExchange = "payments.events"
    /// The worker's work queue (quorum).
    public static let fulfillmentQueue = "fulfillment.payments"
    /// Routing-key patterns binding `fulfillmentQueue` to `paymentsExchange`.
    public static let fulfillmentBindingKeys = ["checkout.*", "payment.*"]
    /// Fanout exchange where parked messages go.
    public static let deadLetterExchange = "fulfillment.payments.dlx"
    /// Parked messages, with the reason in their headers, waiting for a person or a redrive.
    public static let deadLetterQueue = "fulfillment.payments.dlq"
    /// Direct exchange the worker publishes retries to; the routing key names the step's queue.
    public static let retryExchange = "fulfillment.payments.retry"
    /// Topic exchange of the worker's own events (`order.confirmed`, `order.backordered`).
    public static let fulfillmentEventsExchange = "fulfillment.events"
    /// Deliveries of one message before the broker parks it: protects against a message that
    /// crashes the worker every time, while leaving room for several crashes mid-burst.
    public static let deliveryLimit = 20

    /// The growing delays of the retry path, each a queue of its own.
    public static let retrySteps: [RetryStep] = [
        RetryStep(delaySeconds: 1),
        RetryStep(delaySeconds: 10),
        RetryStep(delaySeconds: 60),
    ]

    /// Message headers the worker sets when it retries or parks a message.
    public enum Header {
        /// How many retries the message has had so far.
        public static let retryCount = "x-cobro-retry-count"
        /// Why the message was parked (schema error text, last failure).
        public static let parkedReason = "x-cobro-parked-reason"
        /// When it was parked, RFC 3339.
        public static let parkedAt = "x-cobro-parked-at"
        /// The routing key the message first had, so a retried or parked copy goes back to it.
        public static let originalRoutingKey = "x-cobro-original-routing-key"
        /// When `dlq redrive` sent it back, RFC 3339.
        public static let redrivenAt = "x-cobro-redriven-at"
        /// W3C trace context, mirrored from the envelope.
        public static let traceparent = "traceparent"
    }
}

/// One step of the retry path: a queue that holds a message for `delaySeconds` and then hands it
/// back to the work queue.
public struct RetryStep: Sendable, Hashable {
    public let delaySeconds: Int

    public var queue: String { "\(PaymentsTopology.fulfillmentQueue).retry.\(delaySeconds)s" }
    public var delayMilliseconds: Int { delaySeconds * 1000 }
}
