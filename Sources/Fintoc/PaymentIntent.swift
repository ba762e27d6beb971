import Foundation
import PaymentsCore

/// A bank account as Fintoc describes sender and recipient accounts.
public struct BankAccount: Sendable, Hashable, Codable {
    public var holderID: String?
    public var number: String?
    /// `checking_account`, `sight_account`, `clabe`, … (kept as text: the list is Fintoc's).
    public var type: String?
    public var institutionID: String?

    public init(holderID: String?, number: String?, type: String?, institutionID: String?) {
        self.holderID = holderID
        self.number = number
        self.type = type
        self.institutionID = institutionID
    }

    enum CodingKeys: String, CodingKey {
        case number, type
        case holderID = "holder_id"
        case institutionID = "institution_id"
    }
}

/// A Payment Intent (`pi_…`): one attempt to move money from the customer's bank.
public struct PaymentIntent: Sendable, Hashable, Codable, Identifiable {
    public struct Status: OpenEnum {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created: Self = "created"
        public static let inProgress: Self = "in_progress"
        public static let succeeded: Self = "succeeded"
        public static let failed: Self = "failed"
        public static let rejected: Self = "rejected"
        /// Accepted by the bank, not settled; may take up to 10 days to end.
        public static let pending: Self = "pending"
        public static let requiresAction: Self = "requires_action"
        public static let expired: Self = "expired"
        public static let known: [Self] = [.created, .inProgress, .succeeded, .failed, .rejected, .pending, .requiresAction, .expired]

        /// No later status can follow.
        public var isFinal: Bool { [.succeeded, .failed, .rejected, .expired].contains(self) }
    }

    public var id: String
    public var object: String?
    public var mode: FintocMode?
    public var status: Status
    public var amount: Int64
    public var currency: FintocCurrency
    public var createdAt: Date?
    public var expiresAt: Date?
    /// Opens the widget for this intent; lives 10 minutes.
    public var widgetToken: String?
    public var customerEmail: String?
    /// Why it failed (`insufficient_funds`, …); an open list.
    public var errorReason: String?
    public var paymentType: String?
    public var referenceID: String?
    public var transactionDate: Date?
    public var recipientAccount: BankAccount?
    public var senderAccount: BankAccount?
    public var metadata: Metadata?
    /// What the customer must do next, for `requires_action`.
    public var nextAction: JSONValue?

    public init(
        id: String, mode: FintocMode, status: Status, amount: Int64, currency: FintocCurrency,
        createdAt: Date, expiresAt: Date? = nil, widgetToken: String? = nil, customerEmail: String? = nil,
        errorReason: String? = nil, paymentType: String? = "bank_transfer", referenceID: String? = nil,
        transactionDate: Date? = nil, recipientAccount: BankAccount? = nil, senderAccount: BankAccount? = nil,
        metadata: Metadata = [:], nextAction: JSONValue? = nil
    ) {
        self.id = id
        self.object = "payment_intent"
        self.mode = mode
        self.status = status
        self.amount = amount
        self.currency = currency
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.widgetToken = widgetToken
        self.customerEmail = customerEmail
        self.errorReason = errorReason
        self.paymentType = paymentType
        self.referenceID = referenceID
        self.transactionDate = transactionDate
        self.recipientAccount = recipientAccount
        self.senderAccount = senderAccount
        self.metadata = metadata
        self.nextAction = nextAction
    }

    enum CodingKeys: String, CodingKey {
        case id, object, mode, status, amount, currency, metadata
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case widgetToken = "widget_token"
        case customerEmail = "customer_email"
        case errorReason = "error_reason"
        case paymentType = "payment_type"
        case referenceID = "reference_id"
        case transactionDate = "transaction_date"
        case recipientAccount = "recipient_account"
        case senderAccount = "sender_account"
        case nextAction = "next_action"
    }
}

/// The body of `POST /v1/payment_intents`.
public struct CreatePaymentIntent: Sendable, Hashable, Codable {
    public var amount: Int64
    public var currency: FintocCurrency
    public var customerEmail: String?
    /// For direct payments to one account.
    public var recipientAccount: BankAccount?
    public var metadata: Metadata?

    public init(
        amount: Int64, currency: FintocCurrency, customerEmail: String? = nil, recipientAccount: BankAccount? = nil,
        metadata: Metadata? = nil
    ) {
        self.amount = amount
        self.currency = currency
        self.customerEmail = customerEmail
        self.recipientAccount = recipientAccount
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case amount, currency, metadata
        case customerEmail = "customer_email"
        case recipientAccount = "recipient_account"
    }
}
