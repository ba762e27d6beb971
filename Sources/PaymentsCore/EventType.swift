/// The domain events the gateway publishes; the raw value is both the CloudEvents `type` and the
/// AMQP routing key on `payments.events`.
public enum EventType: String, Sendable, Hashable, Codable, CaseIterable {
    case checkoutCreated = "checkout.created"
    case paymentSucceeded = "payment.succeeded"
    case paymentFailed = "payment.failed"
    case paymentPending = "payment.pending"
    case paymentActionRequired = "payment.action_required"
    case checkoutExpired = "checkout.expired"
    /// A second successful payment for an order already paid: money to refund, never to fulfil.
    case paymentDuplicate = "payment.duplicate"

    public var routingKey: String { rawValue }

    /// The version of the `data` schema this code writes. Version 2 scoped order ids per
    /// storefront: `data.order.storefront` is required, `data.order.id` is unique only within
    /// it, and the event id names the storefront (docs/event-versions.md).
    public var currentVersion: Int { 2 }

    /// The versions of `data` this code reads: version 1 events may still sit in queues written
    /// before the upgrade.
    public static let readableVersions = 1...2

    /// The JSON Schema that describes `data` for `version`, as published in `schemas/events/`.
    public func dataSchema(version: Int) -> String {
        "\(EventContract.schemaBaseURL)events/\(rawValue).v\(version).json"
    }

    public var dataSchema: String { dataSchema(version: currentVersion) }
}

/// Facts of the public event contract that several modules share.
public enum EventContract {
    /// Base of every schema's `$id`; the files live in the repository's `schemas/` folder.
    public static let schemaBaseURL = "https://cobro.dev/schemas/"
    /// The CloudEvents `source` of everything the gateway publishes.
    public static let gatewaySource = "/cobro/payments-gateway"
    /// AMQP `content_type` of a structured-mode CloudEvent.
    public static let contentType = "application/cloudevents+json"
    /// CloudEvents `datacontenttype` of `data`.
    public static let dataContentType = "application/json"
    public static let specVersion = "1.0"
}
