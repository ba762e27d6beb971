import Foundation
import GRDB
import PaymentsCore

/// Hand-written row decoding for the two records every webhook reads. The Codable path converts
/// each column name from snake case and goes through a keyed decoder per row, which the
/// profile of `scripts/bench --only webhooks` showed as a large share of a webhook's cost.
enum RowJSON {
    static let decoder = JSONDecoder()

    static func decode<T: Decodable>(_ type: T.Type, _ row: Row, _ column: String) throws -> T {
        let text: String = try row.decode(String.self, forColumn: column)
        return try decoder.decode(T.self, from: Data(text.utf8))
    }
}

struct RowValueError: Error, CustomStringConvertible {
    let column: String
    let value: String
    var description: String { "unexpected value \(value) in column \(column)" }
}

extension Row {
    fileprivate func enumValue<T: RawRepresentable>(_ type: T.Type, _ column: String) throws -> T where T.RawValue == String {
        let raw: String = try decode(String.self, forColumn: column)
        guard let value = T(rawValue: raw) else { throw RowValueError(column: column, value: raw) }
        return value
    }
}

extension OrderRecord {
    init(row: Row) throws {
        id = try row.decode(String.self, forColumn: "id")
        storefront = try row.decode(String.self, forColumn: "storefront")
        amount = try row.decode(Int64.self, forColumn: "amount")
        currency = try row.enumValue(Currency.self, "currency")
        language = try row.enumValue(Language.self, "language")
        customer = try RowJSON.decode(Customer.self, row, "customer")
        lineItems = try RowJSON.decode([LineItem].self, row, "line_items")
        status = try row.enumValue(Status.self, "status")
        createdAt = try row.decode(Date.self, forColumn: "created_at")
        updatedAt = try row.decode(Date.self, forColumn: "updated_at")
        paidCheckoutID = try row.decode(String?.self, forColumn: "paid_checkout_id")
    }
}

extension CheckoutRecord {
    init(row: Row) throws {
        id = try row.decode(String.self, forColumn: "id")
        storefront = try row.decode(String.self, forColumn: "storefront")
        orderID = try row.decode(String.self, forColumn: "order_id")
        attempt = try row.decode(Int.self, forColumn: "attempt")
        ui = try row.enumValue(CheckoutUI.self, "ui")
        status = try row.enumValue(Status.self, "status")
        mode = try row.decode(String.self, forColumn: "mode")
        providerID = try row.decode(String.self, forColumn: "provider_id")
        paymentIntentID = try row.decode(String?.self, forColumn: "payment_intent_id")
        redirectURL = try row.decode(String?.self, forColumn: "redirect_url")
        sessionToken = try row.decode(String?.self, forColumn: "session_token")
        widgetToken = try row.decode(String?.self, forColumn: "widget_token")
        successURL = try row.decode(String.self, forColumn: "success_url")
        cancelURL = try row.decode(String.self, forColumn: "cancel_url")
        metadata = try RowJSON.decode([String: String].self, row, "metadata")
        failureReason = try row.decode(String?.self, forColumn: "failure_reason")
        expiresAt = try row.decode(Date?.self, forColumn: "expires_at")
        createdAt = try row.decode(Date.self, forColumn: "created_at")
        updatedAt = try row.decode(Date.self, forColumn: "updated_at")
        reviewSince = try row.decode(Date?.self, forColumn: "review_since")
        reconciledAt = try row.decode(Date?.self, forColumn: "reconciled_at")
        sessionFinished = try row.decode(Bool?.self, forColumn: "session_finished") ?? false
        version = try row.decode(Int64?.self, forColumn: "version") ?? 0
    }
}
