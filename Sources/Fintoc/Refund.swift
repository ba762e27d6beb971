import Foundation

/// A Refund (`re_…`) of a succeeded payment.
public struct Refund: Sendable, Hashable, Codable, Identifiable {
    public struct Status: OpenEnum {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created: Self = "created"
        public static let inProgress: Self = "in_progress"
        public static let succeeded: Self = "succeeded"
        public static let failed: Self = "failed"
        public static let canceled: Self = "canceled"
        public static let known: [Self] = [.created, .inProgress, .succeeded, .failed, .canceled]
    }

    public var id: String
    public var object: String?
    public var mode: FintocMode?
    public var status: Status
    public var amount: Int64
    public var currency: FintocCurrency
    /// The refunded object's id (a `pi_…`).
    public var resourceID: String?
    public var resourceType: String?
    public var createdAt: Date?
    public var metadata: Metadata?

    public init(
        id: String, mode: FintocMode, status: Status, amount: Int64, currency: FintocCurrency, resourceID: String,
        resourceType: String = "payment_intent", createdAt: Date, metadata: Metadata = [:]
    ) {
        self.id = id
        self.object = "refund"
        self.mode = mode
        self.status = status
        self.amount = amount
        self.currency = currency
        self.resourceID = resourceID
        self.resourceType = resourceType
        self.createdAt = createdAt
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id, object, mode, status, amount, currency, metadata
        case resourceID = "resource_id"
        case resourceType = "resource_type"
        case createdAt = "created_at"
    }
}

/// The body of `POST /v1/refunds`.
public struct CreateRefund: Sendable, Hashable, Codable {
    public var resourceID: String
    public var resourceType: String
    /// Omitted: the whole payment.
    public var amount: Int64?
    public var metadata: Metadata?

    public init(resourceID: String, resourceType: String = "payment_intent", amount: Int64? = nil, metadata: Metadata? = nil) {
        self.resourceID = resourceID
        self.resourceType = resourceType
        self.amount = amount
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case amount, metadata
        case resourceID = "resource_id"
        case resourceType = "resource_type"
    }
}
