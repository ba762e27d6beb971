import Foundation

/// Everything about an order that a consumer needs to act without calling back: what was bought,
/// by whom, for how much, and in which language to write to them.
public struct OrderSnapshot: Sendable, Hashable, Codable {
    public static let maxLineItems = 100

    /// The storefront's own order id: unique only within `storefront`.
    public var id: OrderID
    /// The storefront the order belongs to. Always present from data version 2 on; nil only in
    /// version 1 events, written before order ids were scoped per storefront.
    public var storefront: StorefrontID?
    /// Total in minor units of `currency`; always equals the sum of the lines.
    public var amount: Int64
    public var currency: Currency
    public var lineItems: [LineItem]
    public var customer: Customer
    public var language: Language

    public init(
        id: OrderID,
        storefront: StorefrontID?,
        amount: Int64,
        currency: Currency,
        lineItems: [LineItem],
        customer: Customer,
        language: Language = .spanish
    ) {
        self.id = id
        self.storefront = storefront
        self.amount = amount
        self.currency = currency
        self.lineItems = lineItems
        self.customer = customer
        self.language = language
    }

    enum CodingKeys: String, CodingKey {
        case id, storefront, amount, currency, customer, language
        case lineItems = "line_items"
    }

    public var total: Money { Money(minorUnits: amount, currency: currency) }

    /// Checks the lines, the customer and that the lines add up to `amount`; `path` prefixes
    /// every issue (empty for a top-level request body).
    public func validate(at path: String = "") throws(ValidationError) {
        var issues = ValidationCollector()
        if amount <= 0 {
            issues.add(ValidationCollector.join(path, "amount"), "must_be_positive", "must be a positive integer in minor units")
        }
        let linesPath = ValidationCollector.join(path, "line_items")
        if lineItems.isEmpty {
            issues.add(linesPath, "required", "must list at least one line")
        } else if lineItems.count > Self.maxLineItems {
            issues.add(linesPath, "too_many", "must have at most \(Self.maxLineItems) lines")
        }
        var linesValid = true
        for (index, line) in lineItems.enumerated() {
            if issues.collect({ () throws(ValidationError) in try line.validate(at: "\(linesPath)[\(index)]") }) == nil {
                linesValid = false
            }
        }
        if linesValid, !lineItems.isEmpty, amount > 0 {
            do {
                let sum = try Money.sum(lineItems.map { line throws(MoneyError) in try line.total(in: currency) }, in: currency)
                if sum.minorUnits != amount {
                    issues.add(
                        ValidationCollector.join(path, "amount"),
                        "amount_mismatch",
                        "must equal the sum of the lines (\(sum.minorUnits)), not \(amount)"
                    )
                }
            } catch {
                issues.add(linesPath, "too_large", "the lines add up to more than can be represented")
            }
        }
        _ = issues.collect { () throws(ValidationError) in try customer.validate(at: ValidationCollector.join(path, "customer")) }
        try issues.check()
    }
}

/// The language of the customer's emails: Spanish unless the storefront says English.
public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
    case spanish = "es"
    case english = "en"
}

/// Whether Fintoc ran the payment with test or live keys; test and live objects never mix.
public enum Mode: String, Sendable, Hashable, Codable, CaseIterable {
    case test
    case live
}

/// How the storefront shows the payment to the customer, which decides the Fintoc object.
public enum CheckoutUI: String, Sendable, Hashable, Codable, CaseIterable {
    /// Fintoc-hosted page (v2 checkout session with a `redirect_url`).
    case redirect
    /// Embedded widget opened with a v1 checkout session's `session_token`.
    case widget
    /// Embedded widget opened with a payment intent's `widget_token`.
    case paymentIntent = "payment_intent"
}

/// One checkout attempt of an order as the gateway made it at Fintoc.
public struct CheckoutSnapshot: Sendable, Hashable, Codable {
    public var id: CheckoutID
    /// 1 for the order's first checkout, 2 for the retry after a failure, and so on.
    public var attempt: Int
    public var ui: CheckoutUI
    /// The Fintoc object behind the checkout: its `cs_…` (sessions) or `pi_…` (intents) id.
    public var providerID: String?
    public var expiresAt: Date?

    public init(id: CheckoutID, attempt: Int, ui: CheckoutUI, providerID: String?, expiresAt: Date?) {
        self.id = id
        self.attempt = attempt
        self.ui = ui
        self.providerID = providerID
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, attempt, ui
        case providerID = "provider_id"
        case expiresAt = "expires_at"
    }

    public func validate(at path: String) throws(ValidationError) {
        if attempt < 1 {
            throw ValidationError(path: ValidationCollector.join(path, "attempt"), code: "must_be_positive", reason: "must be 1 or more")
        }
    }
}

/// The payment behind an outcome: Fintoc's payment intent and what it says happened.
public struct PaymentSnapshot: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case succeeded, failed, rejected, pending
        case requiresAction = "requires_action"
    }

    /// Fintoc's payment intent id (`pi_…`).
    public var id: String
    public var status: Status
    /// Fintoc's `error_reason` (e.g. `insufficient_funds`); an open list, so kept as text.
    public var reason: String?
    /// What the customer must do, when Fintoc says (`payment.action_required` only).
    public var nextAction: NextAction?

    public init(id: String, status: Status, reason: String? = nil, nextAction: NextAction? = nil) {
        self.id = id
        self.status = status
        self.reason = reason
        self.nextAction = nextAction
    }

    enum CodingKeys: String, CodingKey {
        case id, status, reason
        case nextAction = "next_action"
    }
}
