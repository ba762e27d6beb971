import Foundation

/// One domain event of any type: what the gateway publishes and the worker consumes.
public enum DomainEvent: Sendable, Hashable {
    case checkoutCreated(CheckoutCreated)
    case paymentSucceeded(PaymentSucceeded)
    case paymentFailed(PaymentFailed)
    case paymentPending(PaymentPending)
    case paymentActionRequired(PaymentActionRequired)
    case checkoutExpired(CheckoutExpired)
    case paymentDuplicate(PaymentDuplicate)

    public var type: EventType { payload.eventTypeOfValue }

    /// The event's `data`, for the parts every type shares.
    public var payload: any DomainEventData {
        switch self {
        case .checkoutCreated(let data): data
        case .paymentSucceeded(let data): data
        case .paymentFailed(let data): data
        case .paymentPending(let data): data
        case .paymentActionRequired(let data): data
        case .checkoutExpired(let data): data
        case .paymentDuplicate(let data): data
        }
    }

    /// The deterministic CloudEvents id of this fact (see `EventID`).
    public var id: String {
        EventID.make(storefront: payload.order.storefront, order: payload.order.id, type: type, attempt: payload.checkout.attempt)
    }

    public func validate() throws(ValidationError) {
        try payload.validate()
    }

    func encodeData(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
    }

    /// Decodes `data` as the payload of `type`.
    static func decodeData(_ type: EventType, from decoder: any Decoder) throws -> DomainEvent {
        switch type {
        case .checkoutCreated: .checkoutCreated(try CheckoutCreated(from: decoder))
        case .paymentSucceeded: .paymentSucceeded(try PaymentSucceeded(from: decoder))
        case .paymentFailed: .paymentFailed(try PaymentFailed(from: decoder))
        case .paymentPending: .paymentPending(try PaymentPending(from: decoder))
        case .paymentActionRequired: .paymentActionRequired(try PaymentActionRequired(from: decoder))
        case .checkoutExpired: .checkoutExpired(try CheckoutExpired(from: decoder))
        case .paymentDuplicate: .paymentDuplicate(try PaymentDuplicate(from: decoder))
        }
    }
}

extension DomainEventData {
    fileprivate var eventTypeOfValue: EventType { Self.eventType }
}

/// The rule that makes event ids deterministic per fact: `<storefront>/<order id>/<event
/// type>/<attempt>`, e.g. `shop-cl/ord-1001/payment.succeeded/1`. Version 1 events, written before
/// order ids were scoped per storefront, have no storefront part: `ord-1001/payment.succeeded/1`.
///
/// Two webhooks that state the same fact, a replay, or a re-publish after a crash all produce the
/// same id, so any consumer can collapse duplicates by id alone; two storefronts' order `1001`
/// never share one. Neither the storefront's nor the order id's alphabet has `/`, so the id can
/// be read back unambiguously.
public enum EventID {
    public static func make(storefront: StorefrontID?, order: OrderID, type: EventType, attempt: Int) -> String {
        let fact = "\(order.rawValue)/\(type.rawValue)/\(attempt)"
        return storefront.map { "\($0.rawValue)/\(fact)" } ?? fact
    }

    /// The parts of an id made by `make`, or nil for any other string.
    public static func parse(_ id: String) -> (storefront: StorefrontID?, order: OrderID, type: EventType, attempt: Int)? {
        var parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var storefront: StorefrontID?
        if parts.count == 4 {
            guard let named = try? StorefrontID(parts.removeFirst()) else { return nil }
            storefront = named
        }
        guard parts.count == 3,
            let order = try? OrderID(parts[0]),
            let type = EventType(rawValue: parts[1]),
            let attempt = Int(parts[2]), attempt >= 1, String(attempt) == parts[2]
        else { return nil }
        return (storefront, order, type, attempt)
    }
}
