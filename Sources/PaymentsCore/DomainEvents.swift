import Foundation

/// What every domain event's `data` has: the order, the checkout attempt, the mode, and when the
/// fact happened. Each event type adds what is specific to it.
public protocol DomainEventData: Sendable, Hashable, Codable {
    static var eventType: EventType { get }
    var order: OrderSnapshot { get }
    var checkout: CheckoutSnapshot { get }
    var mode: Mode { get }
    /// When the fact happened at the provider (or at the gateway, for `checkout.created`).
    var occurredAt: Date { get }
    /// Type-specific rules on top of the shared ones (e.g. which payment statuses fit).
    func validateSpecifics() throws(ValidationError)
}

extension DomainEventData {
    /// Checks the whole payload, all issues at once, with paths under `data`.
    public func validate() throws(ValidationError) {
        var issues = ValidationCollector()
        _ = issues.collect { () throws(ValidationError) in try order.validate(at: "data.order") }
        _ = issues.collect { () throws(ValidationError) in try checkout.validate(at: "data.checkout") }
        _ = issues.collect { () throws(ValidationError) in try validateSpecifics() }
        try issues.check()
    }
}

// MARK: - checkout.* events

/// Names one `checkout.*` event type and its extra rules; carries no data of its own.
public protocol CheckoutEventKind: Sendable {
    static var eventType: EventType { get }
    static func validate(_ checkout: CheckoutSnapshot) throws(ValidationError)
}

/// The `data` of a `checkout.*` event: the common fields only.
public struct CheckoutEvent<Kind: CheckoutEventKind>: DomainEventData {
    public static var eventType: EventType { Kind.eventType }
    public var order: OrderSnapshot
    public var checkout: CheckoutSnapshot
    public var mode: Mode
    public var occurredAt: Date

    public init(order: OrderSnapshot, checkout: CheckoutSnapshot, mode: Mode, occurredAt: Date) {
        self.order = order
        self.checkout = checkout
        self.mode = mode
        self.occurredAt = occurredAt
    }

    enum CodingKeys: String, CodingKey {
        case order, checkout, mode
        case occurredAt = "occurred_at"
    }

    public func validateSpecifics() throws(ValidationError) {
        try Kind.validate(checkout)
    }
}

/// `checkout.created`: a checkout exists at Fintoc and the customer can pay; stock is held
/// until `checkout.expires_at`.
public typealias CheckoutCreated = CheckoutEvent<CheckoutCreatedKind>
public enum CheckoutCreatedKind: CheckoutEventKind {
    public static let eventType = EventType.checkoutCreated
    public static func validate(_ checkout: CheckoutSnapshot) throws(ValidationError) {
        if checkout.expiresAt == nil {
            throw ValidationError(path: "data.checkout.expires_at", code: "required", reason: "a new checkout says when it expires")
        }
    }
}

/// `checkout.expired`: the checkout ended unpaid; held stock goes back.
public typealias CheckoutExpired = CheckoutEvent<CheckoutExpiredKind>
public enum CheckoutExpiredKind: CheckoutEventKind {
    public static let eventType = EventType.checkoutExpired
    public static func validate(_ checkout: CheckoutSnapshot) throws(ValidationError) {}
}

// MARK: - payment.* events

/// Names one `payment.*` event type and the payment statuses it stands for.
public protocol PaymentEventKind: Sendable {
    static var eventType: EventType { get }
    static var allowedStatuses: Set<PaymentSnapshot.Status> { get }
    /// Whether `payment.next_action` may appear: only where the customer has something to do.
    static var carriesNextAction: Bool { get }
}

extension PaymentEventKind {
    public static var carriesNextAction: Bool { false }
}

/// The `data` of a `payment.*` event: the common fields plus the payment and its outcome.
public struct PaymentEvent<Kind: PaymentEventKind>: DomainEventData {
    public static var eventType: EventType { Kind.eventType }
    public var order: OrderSnapshot
    public var checkout: CheckoutSnapshot
    public var payment: PaymentSnapshot
    public var mode: Mode
    public var occurredAt: Date

    public init(order: OrderSnapshot, checkout: CheckoutSnapshot, payment: PaymentSnapshot, mode: Mode, occurredAt: Date) {
        self.order = order
        self.checkout = checkout
        self.payment = payment
        self.mode = mode
        self.occurredAt = occurredAt
    }

    enum CodingKeys: String, CodingKey {
        case order, checkout, payment, mode
        case occurredAt = "occurred_at"
    }

    public func validateSpecifics() throws(ValidationError) {
        var issues = ValidationCollector()
        if !Kind.allowedStatuses.contains(payment.status) {
            issues.add(
                "data.payment.status",
                "invalid_value",
                "must be \(Kind.allowedStatuses.map(\.rawValue).sorted().joined(separator: " or ")) for \(Kind.eventType.rawValue)"
            )
        }
        if let nextAction = payment.nextAction {
            if Kind.carriesNextAction {
                _ = issues.collect { () throws(ValidationError) in try nextAction.validate(at: "data.payment.next_action") }
            } else {
                issues.add("data.payment.next_action", "not_allowed", "only payment.action_required carries next_action")
            }
        }
        try issues.check()
    }
}

/// `payment.succeeded`: the money is confirmed; stock is sold and the confirmation sent.
public typealias PaymentSucceeded = PaymentEvent<PaymentSucceededKind>
public enum PaymentSucceededKind: PaymentEventKind {
    public static let eventType = EventType.paymentSucceeded
    public static let allowedStatuses: Set<PaymentSnapshot.Status> = [.succeeded]
}

/// `payment.failed`: the payment ended without money (`failed`, or `rejected` by the bank or the
/// customer); `payment.reason` says why when Fintoc does. Held stock goes back.
public typealias PaymentFailed = PaymentEvent<PaymentFailedKind>
public enum PaymentFailedKind: PaymentEventKind {
    public static let eventType = EventType.paymentFailed
    public static let allowedStatuses: Set<PaymentSnapshot.Status> = [.failed, .rejected]
}

/// `payment.pending`: the bank accepted the transfer but has not settled it (can take days).
public typealias PaymentPending = PaymentEvent<PaymentPendingKind>
public enum PaymentPendingKind: PaymentEventKind {
    public static let eventType = EventType.paymentPending
    public static let allowedStatuses: Set<PaymentSnapshot.Status> = [.pending]
}

/// `payment.action_required`: the customer must do something more (e.g. a second representative
/// of a company approves the transfer at the bank); `payment.next_action` says what, when Fintoc
/// does.
public typealias PaymentActionRequired = PaymentEvent<PaymentActionRequiredKind>
public enum PaymentActionRequiredKind: PaymentEventKind {
    public static let eventType = EventType.paymentActionRequired
    public static let allowedStatuses: Set<PaymentSnapshot.Status> = [.requiresAction]
    public static let carriesNextAction = true
}

/// `payment.duplicate`: a payment succeeded for an order that another checkout attempt had
/// already paid. Published for a refund decision; consumers must not fulfil it.
public typealias PaymentDuplicate = PaymentEvent<PaymentDuplicateKind>
public enum PaymentDuplicateKind: PaymentEventKind {
    public static let eventType = EventType.paymentDuplicate
    public static let allowedStatuses: Set<PaymentSnapshot.Status> = [.succeeded]
}
