import Foundation
import PaymentsCore

/// A webhook event (`evt_…`): `{id, object: "event", type, mode, created_at, data}` where `data`
/// is the whole object the event is about.
///
/// `data` is kept as raw JSON so an event of a type this code does not know is still read, stored
/// and acknowledged; the typed accessors decode it when the type says what it is.
public struct Event: Sendable, Hashable, Codable, Identifiable {
    public struct EventType: OpenEnum {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let paymentIntentSucceeded: Self = "payment_intent.succeeded"
        public static let paymentIntentFailed: Self = "payment_intent.failed"
        public static let paymentIntentRejected: Self = "payment_intent.rejected"
        public static let paymentIntentPending: Self = "payment_intent.pending"
        public static let paymentIntentRequiresAction: Self = "payment_intent.requires_action"
        public static let paymentIntentExpired: Self = "payment_intent.expired"
        public static let checkoutSessionFinished: Self = "checkout_session.finished"
        public static let checkoutSessionExpired: Self = "checkout_session.expired"
        public static let refundSucceeded: Self = "refund.succeeded"
        public static let refundFailed: Self = "refund.failed"
        public static let refundInProgress: Self = "refund.in_progress"
        public static let known: [Self] = [
            .paymentIntentSucceeded, .paymentIntentFailed, .paymentIntentRejected, .paymentIntentPending,
            .paymentIntentRequiresAction, .paymentIntentExpired, .checkoutSessionFinished, .checkoutSessionExpired,
            .refundSucceeded, .refundFailed, .refundInProgress,
        ]

        /// The object kind before the dot: `payment_intent`, `checkout_session`, `refund`.
        public var objectKind: Substring { rawValue.prefix { $0 != "." } }
    }

    public var id: String
    public var object: String?
    public var type: EventType
    public var mode: FintocMode?
    public var createdAt: Date?
    public var data: JSONValue

    public init(id: String, type: EventType, mode: FintocMode, createdAt: Date, data: JSONValue) {
        self.id = id
        self.object = "event"
        self.type = type
        self.mode = mode
        self.createdAt = createdAt
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, object, type, mode, data
        case createdAt = "created_at"
    }

    /// `data` as a Payment Intent, for `payment_intent.*` events.
    public func paymentIntent() throws -> PaymentIntent? {
        try decodeData(as: PaymentIntent.self, when: "payment_intent")
    }

    /// `data` as a Checkout Session, for `checkout_session.*` events.
    public func checkoutSession() throws -> CheckoutSession? {
        try decodeData(as: CheckoutSession.self, when: "checkout_session")
    }

    /// `data` as a Refund, for `refund.*` events.
    public func refund() throws -> Refund? {
        try decodeData(as: Refund.self, when: "refund")
    }

    private func decodeData<T: Decodable>(as type: T.Type, when kind: Substring) throws -> T? {
        guard self.type.objectKind == kind else { return nil }
        let bytes = try FintocJSON.encoder().encode(data)
        return try FintocJSON.decoder().decode(T.self, from: bytes)
    }
}
