import Fintoc
import Foundation
import PaymentsCore

/// The body of `POST /v1/checkouts`, validated: every field is present, well formed, and the
/// lines add up to the amount.
struct CheckoutRequest: Sendable, Hashable, Codable {
    static let maxURLLength = HTTPURLRule.maxLength
    static let maxMetadataKeys = 20
    static let maxMetadataKeyLength = 40
    static let maxMetadataValueLength = 500
    /// The largest amount Fintoc takes (minor units); a larger one would come back as a 502.
    static let maxAmount: Int64 = 1_000_000_000_000

    var order: OrderSnapshot
    var ui: CheckoutUI
    var successURL: String
    var cancelURL: String
    var metadata: [String: String]
    /// Fintoc's checkout options beyond the order; nil when none is given (so a request without
    /// them keeps the canonical form, and the idempotency hash, it always had).
    var options: CheckoutOptions?

    /// What arrives on the wire: everything optional, so a missing field is reported by name
    /// together with every other problem rather than as the first decoding failure.
    private struct Wire: Decodable {
        var orderID: String?
        var currency: String?
        var amount: Int64?
        var lineItems: [LineItem]?
        var customer: Customer?
        var successURL: String?
        var cancelURL: String?
        var ui: String?
        var metadata: [String: String]?
        var language: String?
        var paymentMethodTypes: JSONValue?
        var paymentMethodOptions: JSONValue?
        var businessProfile: JSONValue?
        var recipientAccount: JSONValue?

        enum CodingKeys: String, CodingKey {
            case currency, amount, customer, ui, metadata, language
            case orderID = "order_id"
            case lineItems = "line_items"
            case successURL = "success_url"
            case cancelURL = "cancel_url"
            case paymentMethodTypes = "payment_method_types"
            case paymentMethodOptions = "payment_method_options"
            case businessProfile = "business_profile"
            case recipientAccount = "recipient_account"
        }

        var options: CheckoutOptions.Wire {
            CheckoutOptions.Wire(
                paymentMethodTypes: paymentMethodTypes, paymentMethodOptions: paymentMethodOptions,
                businessProfile: businessProfile, recipientAccount: recipientAccount)
        }
    }

    /// Parses and validates a request body; every problem is a `ValidationError` with its path.
    static func parse(_ body: Data) throws(ValidationError) -> CheckoutRequest {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: body)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            // The decoder blames the whole body for a number no Swift integer holds.
            if (try? JSONSerialization.jsonObject(with: body)) is [String: Any] {
                throw ValidationError(
                    path: "", code: "invalid_number", reason: "a number is out of range (amounts are at most \(maxAmount))")
            }
            throw ValidationError(path: "", code: "invalid_json", reason: "the body is not a JSON object")
        } catch let error as DecodingError {
            throw ValidationError(path: error.path, code: "invalid_type", reason: error.reason)
        } catch {
            throw ValidationError(path: "", code: "invalid_json", reason: "the body is not JSON")
        }

        var issues = ValidationCollector()
        func required<T>(_ value: T?, _ path: String) -> T? {
            if value == nil { issues.add(path, "required", "is required") }
            return value
        }
        let orderID = required(wire.orderID, "order_id").flatMap { raw in issues.collect { () throws(ValidationError) in try OrderID(raw) }
        }
        let currency = required(wire.currency, "currency").flatMap { code in
            let currency = Currency(code: code)
            if currency == nil { issues.add("currency", "invalid_currency", "must be CLP or MXN") }
            return currency
        }
        let amount = required(wire.amount, "amount")
        if let amount, amount > maxAmount { issues.add("amount", "too_large", "must be at most \(maxAmount)") }
        let lineItems = required(wire.lineItems, "line_items")
        let customer = required(wire.customer, "customer")
        let ui = required(wire.ui, "ui").flatMap { raw in
            let ui = CheckoutUI(rawValue: raw)
            if ui == nil { issues.add("ui", "invalid_value", "must be redirect, widget or payment_intent") }
            return ui
        }
        var language = Language.spanish
        if let raw = wire.language {
            if let parsed = Language(rawValue: raw) {
                language = parsed
            } else {
                issues.add("language", "invalid_value", "must be es or en")
            }
        }
        let successURL = required(wire.successURL, "success_url")
        let cancelURL = required(wire.cancelURL, "cancel_url")
        for (url, path) in [(successURL, "success_url"), (cancelURL, "cancel_url")] {
            if let url, let problem = Self.urlProblem(url) { issues.add(path, "invalid_url", problem) }
        }
        let metadata = wire.metadata ?? [:]
        if metadata.count > maxMetadataKeys {
            issues.add("metadata", "too_many", "must have at most \(maxMetadataKeys) keys")
        }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            if key.isEmpty || key.unicodeScalars.count > maxMetadataKeyLength {
                issues.add("metadata", "invalid_key", "keys must have 1 to \(maxMetadataKeyLength) characters")
            } else if value.unicodeScalars.count > maxMetadataValueLength {
                issues.add("metadata.\(key)", "too_long", "must be at most \(maxMetadataValueLength) characters")
            }
        }
        let options = CheckoutOptions.parse(wire.options, ui: ui, currency: currency, issues: &issues)
        if let orderID, let currency, let amount, let lineItems, let customer {
            let order = OrderSnapshot(
                id: orderID, storefront: nil, amount: amount, currency: currency, lineItems: lineItems, customer: customer,
                language: language)
            _ = issues.collect { () throws(ValidationError) in try order.validate() }
            try issues.check()
            if let ui, let successURL, let cancelURL {
                return CheckoutRequest(
                    order: order, ui: ui, successURL: successURL, cancelURL: cancelURL, metadata: metadata, options: options)
            }
        } else if let customer {
            _ = issues.collect { () throws(ValidationError) in try customer.validate(at: "customer") }
        }
        try issues.check()
        // Unreachable: a missing field always adds an issue above.
        throw ValidationError(path: "", code: "invalid_request", reason: "incomplete request")
    }

    /// Why `text` is not an absolute http(s) URL a customer can be sent to, or nil when it is
    /// one: every URL a storefront sends goes through this one rule (``HTTPURLRule``).
    static func urlProblem(_ text: String) -> String? {
        HTTPURLRule.problem(text, maxLength: maxURLLength)
    }

    /// SHA-256 input identifying the request for idempotency: its canonical JSON, so the same
    /// request with other spacing or key order is still the same request.
    var canonicalForm: Data {
        (try? Timestamp.jsonEncoder().encode(self)) ?? Data()
    }
}

extension DecodingError {
    var path: String {
        switch self {
        case .keyNotFound(let key, let context): (context.codingPath + [key]).fieldPath
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): context.codingPath.fieldPath
        @unknown default: ""
        }
    }

    var reason: String {
        switch self {
        case .keyNotFound: "is required"
        case .typeMismatch(let type, _): "must be \(Self.describe(type))"
        case .valueNotFound(let type, _): "must be \(Self.describe(type)), not null"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "is invalid"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int64.Type, is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
