import Foundation
import PaymentsCore

/// A stored row's columns by name, as either engine hands them over (GRDB's `Row`, PostgresNIO's
/// `PostgresRandomAccessRow`), so each record is decoded by one hand-written initialiser. The
/// Codable path converts each column name from snake case and goes through a keyed decoder per
/// row, which the profile of `scripts/bench --only webhooks` showed as a large share of a
/// webhook's cost.
protocol RecordColumns {
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
    func integer(_ column: String) throws -> Int64
    func optionalInteger(_ column: String) throws -> Int64?
    func date(_ column: String) throws -> Date
    func optionalDate(_ column: String) throws -> Date?
    func boolean(_ column: String) throws -> Bool
    func bytes(_ column: String) throws -> Data
    func optionalBytes(_ column: String) throws -> Data?
}

struct RowValueError: Error, CustomStringConvertible {
    let column: String
    let value: String
    var description: String { "unexpected value \(value) in column \(column)" }
}

/// JSON columns (an order's customer and lines, a checkout's metadata) are JSON text.
enum RowJSON {
    static let decoder = JSONDecoder()
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension RecordColumns {
    func value<T: RawRepresentable>(_ type: T.Type, _ column: String) throws -> T where T.RawValue == String {
        let raw = try text(column)
        guard let value = T(rawValue: raw) else { throw RowValueError(column: column, value: raw) }
        return value
    }

    func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
        try RowJSON.decoder.decode(T.self, from: Data(try text(column).utf8))
    }
}

extension OrderRecord {
    init(columns row: some RecordColumns) throws {
        id = try row.text("id")
        storefront = try row.text("storefront")
        amount = try row.integer("amount")
        currency = try row.value(Currency.self, "currency")
        language = try row.value(Language.self, "language")
        customer = try row.json(Customer.self, "customer")
        lineItems = try row.json([LineItem].self, "line_items")
        status = try row.value(Status.self, "status")
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        paidCheckoutID = try row.optionalText("paid_checkout_id")
    }
}

extension CheckoutRecord {
    init(columns row: some RecordColumns) throws {
        id = try row.text("id")
        storefront = try row.text("storefront")
        orderID = try row.text("order_id")
        attempt = Int(try row.integer("attempt"))
        ui = try row.value(CheckoutUI.self, "ui")
        status = try row.value(Status.self, "status")
        mode = try row.text("mode")
        providerID = try row.text("provider_id")
        paymentIntentID = try row.optionalText("payment_intent_id")
        redirectURL = try row.optionalText("redirect_url")
        sessionToken = try row.optionalText("session_token")
        widgetToken = try row.optionalText("widget_token")
        successURL = try row.text("success_url")
        cancelURL = try row.text("cancel_url")
        metadata = try row.json([String: String].self, "metadata")
        failureReason = try row.optionalText("failure_reason")
        expiresAt = try row.optionalDate("expires_at")
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        reviewSince = try row.optionalDate("review_since")
        reconciledAt = try row.optionalDate("reconciled_at")
        sessionFinished = try row.boolean("session_finished")
        version = try row.integer("version")
    }
}

extension OutboxRecord {
    init(columns row: some RecordColumns) throws {
        sequence = try row.integer("sequence")
        eventID = try row.text("event_id")
        storefront = try row.text("storefront")
        orderID = try row.text("order_id")
        type = try row.text("type")
        body = try row.bytes("body")
        traceparent = try row.optionalText("traceparent")
        createdAt = try row.date("created_at")
        publishedAt = try row.optionalDate("published_at")
        publishAttempts = Int(try row.integer("publish_attempts"))
    }
}

extension InboxRecord {
    init(columns row: some RecordColumns) throws {
        id = try row.text("id")
        type = try row.text("type")
        source = try row.value(Source.self, "source")
        objectID = try row.optionalText("object_id")
        checkoutID = try row.optionalText("checkout_id")
        outcome = try row.value(Outcome.self, "outcome")
        detail = try row.optionalText("detail")
        body = try row.bytes("body")
        occurredAt = try row.optionalDate("occurred_at")
        receivedAt = try row.date("received_at")
    }
}

extension StorefrontKeyRecord {
    init(columns row: some RecordColumns) throws {
        id = try row.text("id")
        name = try row.text("name")
        keyHash = try row.bytes("key_hash")
        keyPrefix = try row.text("key_prefix")
        source = try row.value(Source.self, "source")
        createdAt = try row.date("created_at")
        revokedAt = try row.optionalDate("revoked_at")
    }
}

extension IdempotencyRecord {
    init(columns row: some RecordColumns) throws {
        storefront = try row.text("storefront")
        key = try row.text("key")
        requestHash = try row.bytes("request_hash")
        state = try row.value(State.self, "state")
        responseStatus = try row.optionalInteger("response_status").map(Int.init)
        responseBody = try row.optionalBytes("response_body")
        createdAt = try row.date("created_at")
        claim = try row.optionalText("claim")
    }
}
