import Foundation
import PaymentsCore

/// A checkout as the storefront API shows it.
struct CheckoutView: Encodable, Sendable {
    let id: String
    let object = "checkout"
    let orderID: String
    let attempt: Int
    let status: String
    let ui: String
    let mode: String
    let provider = "fintoc"
    /// Fintoc's `cs_…` or `pi_…`, for support and reconciliation.
    let providerID: String
    let paymentIntentID: String?
    let redirectURL: String?
    let sessionToken: String?
    let widgetToken: String?
    /// The Fintoc public key the widget opens with (widget styles only).
    let publicKey: String?
    let failureReason: String?
    let successURL: String
    let cancelURL: String
    let metadata: [String: String]
    let expiresAt: Date?
    let createdAt: Date
    let updatedAt: Date

    init(_ record: CheckoutRecord, publicKey: String) {
        id = record.id
        orderID = record.orderID
        attempt = record.attempt
        status = record.status.rawValue
        ui = record.ui.rawValue
        mode = record.mode
        providerID = record.providerID
        paymentIntentID = record.paymentIntentID
        redirectURL = record.redirectURL
        sessionToken = record.sessionToken
        widgetToken = record.widgetToken
        self.publicKey = record.ui == .redirect ? nil : publicKey
        failureReason = record.failureReason
        successURL = record.successURL
        cancelURL = record.cancelURL
        metadata = record.metadata
        expiresAt = record.expiresAt
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, object, attempt, status, ui, mode, provider, metadata
        case orderID = "order_id"
        case providerID = "provider_id"
        case paymentIntentID = "payment_intent_id"
        case redirectURL = "redirect_url"
        case sessionToken = "session_token"
        case widgetToken = "widget_token"
        case publicKey = "public_key"
        case failureReason = "failure_reason"
        case successURL = "success_url"
        case cancelURL = "cancel_url"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encoded() throws -> Data {
        try Timestamp.jsonEncoder().encode(self)
    }
}

/// An order with its checkouts and the history of its domain events.
struct OrderView: Encodable, Sendable {
    struct EventEntry: Encodable, Sendable {
        let id: String
        let type: String
        let createdAt: Date
        /// When the broker acknowledged it; null while it waits in the outbox.
        let publishedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, type
            case createdAt = "created_at"
            case publishedAt = "published_at"
        }
    }

    let id: String
    let object = "order"
    let status: String
    let amount: Int64
    let currency: Currency
    let language: Language
    let customer: Customer
    let lineItems: [LineItem]
    let checkouts: [CheckoutView]
    let events: [EventEntry]
    let createdAt: Date
    let updatedAt: Date

    init(_ order: OrderRecord, checkouts: [CheckoutRecord], events: [OutboxRecord], publicKey: String) {
        id = order.id
        status = order.status.rawValue
        amount = order.amount
        currency = order.currency
        language = order.language
        customer = order.customer
        lineItems = order.lineItems
        self.checkouts = checkouts.map { CheckoutView($0, publicKey: publicKey) }
        self.events = events.map { EventEntry(id: $0.eventID, type: $0.type, createdAt: $0.createdAt, publishedAt: $0.publishedAt) }
        createdAt = order.createdAt
        updatedAt = order.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, amount, currency, language, customer, checkouts, events
        case lineItems = "line_items"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
