import Foundation
import GRDB
import PaymentsCore

/// Column names are the snake_case of the properties (`paidCheckoutID` is `paid_checkout_id`).
/// Each record names the columns that queries filter or order by in its `Columns` enum, so a
/// column's name is spelled once, next to its property (`Column(CodingKeys.x)` would name the
/// property, not the column).
protocol GatewayRecord: Codable, FetchableRecord, PersistableRecord, Sendable {}

extension GatewayRecord {
    static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy {
        .custom { column in ColumnName.key(column) }
    }
    static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy {
        .custom { key in ColumnName.column(key.stringValue) }
    }
}

/// Between snake_case columns and Swift's property names, where `ID` and `URL` are written in
/// capitals (`order_id` ⇄ `orderID`, `redirect_url` ⇄ `redirectURL`), which the plain snake-case
/// strategies would turn into `orderId`.
enum ColumnName {
    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func key(_ column: String) -> any CodingKey {
        let words = column.split(separator: "_")
        guard let first = words.first else { return Key(stringValue: column) }
        let rest = words.dropFirst().map { word in
            switch word {
            case "id": "ID"
            case "url": "URL"
            default: word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return Key(stringValue: ([String(first)] + rest).joined())
    }

    static func column(_ property: String) -> String {
        var column = ""
        let characters = Array(property)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A word starts at a capital after a lower-case letter, or at the last capital of
                // a run followed by a lower-case letter ("URLPath" would be url_path).
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) {
                    column.append("_")
                }
            }
            column.append(contentsOf: character.lowercased())
        }
        return column
    }
}

/// An order as the storefront described it on its first checkout; its key is (storefront, id),
/// since each storefront numbers its own orders.
struct OrderRecord: GatewayRecord {
    static let databaseTableName = "order"

    enum Status: String, Codable, Sendable {
        /// No checkout has succeeded yet; a new attempt may start.
        case open
        /// A checkout succeeded: no new checkout is accepted.
        case paid
    }

    var id: String
    var storefront: String
    var amount: Int64
    var currency: Currency
    var language: Language
    var customer: Customer
    var lineItems: [LineItem]
    var status: Status
    var createdAt: Date
    var updatedAt: Date
    var paidCheckoutID: String? = nil

    enum Columns {
        static let id = Column("id")
        static let storefront = Column("storefront")
    }

    /// The primary key of the order `id` of `storefront`.
    static func key(storefront: String, id: String) -> [String: any DatabaseValueConvertible] {
        ["storefront": storefront, "id": id]
    }

    static func find(storefront: String, id: String, in db: Database) throws -> OrderRecord? {
        try fetchOne(db, key: key(storefront: storefront, id: id))
    }

    var snapshot: OrderSnapshot {
        OrderSnapshot(
            id: OrderID(uncheckedRawValue: id), storefront: StorefrontID(uncheckedRawValue: storefront), amount: amount, currency: currency,
            lineItems: lineItems, customer: customer, language: language
        )
    }
}

/// One attempt to pay an order, backed by one Fintoc object.
struct CheckoutRecord: GatewayRecord, Identifiable {
    static let databaseTableName = "checkout"

    /// The checkout's own state machine (docs/architecture.md rule 3): terminal states never regress.
    enum Status: String, Codable, Sendable, CaseIterable {
        case created, pending
        case actionRequired = "action_required"
        case succeeded, failed, rejected, expired

        var isTerminal: Bool { [.succeeded, .failed, .rejected, .expired].contains(self) }
    }

    var id: String
    /// The order is (storefront, order_id).
    var storefront: String
    var orderID: String
    var attempt: Int
    var ui: CheckoutUI
    var status: Status
    var mode: String
    var providerID: String
    var paymentIntentID: String?
    var redirectURL: String?
    var sessionToken: String?
    var widgetToken: String?
    var successURL: String
    var cancelURL: String
    var metadata: [String: String]
    var failureReason: String?
    var expiresAt: Date?
    var createdAt: Date
    var updatedAt: Date
    var reviewSince: Date? = nil
    var reconciledAt: Date? = nil
    var sessionFinished = false
    var version: Int64 = 0

    enum Columns {
        static let storefront = Column("storefront")
        static let orderID = Column("order_id")
        static let attempt = Column("attempt")
        static let reviewSince = Column("review_since")
    }

    /// The order this checkout pays.
    func order(in db: Database) throws -> OrderRecord? {
        try OrderRecord.find(storefront: storefront, id: orderID, in: db)
    }

    var snapshot: CheckoutSnapshot {
        CheckoutSnapshot(
            id: CheckoutID(uncheckedRawValue: id), attempt: attempt, ui: ui,
            providerID: providerID, expiresAt: expiresAt
        )
    }
}

/// A storefront's idempotency key and, once answered, the answer to replay.
struct IdempotencyRecord: GatewayRecord {
    static let databaseTableName = "idempotency_key"

    enum State: String, Codable, Sendable {
        case inProgress = "in_progress"
        case completed
    }

    var storefront: String
    var key: String
    var requestHash: Data
    var state: State
    var responseStatus: Int?
    var responseBody: Data?
    var createdAt: Date
    var claim: String?

    enum Columns {
        static let storefront = Column("storefront")
        static let key = Column("key")
        static let state = Column("state")
        static let responseStatus = Column("response_status")
        static let responseBody = Column("response_body")
        static let createdAt = Column("created_at")
        static let claim = Column("claim")
    }
}

/// A domain event waiting for (or past) its broker acknowledgement.
struct OutboxRecord: GatewayRecord {
    static let databaseTableName = "outbox"

    var sequence: Int64?
    var eventID: String
    var storefront: String
    var orderID: String
    var type: String
    var body: Data
    var traceparent: String?
    var createdAt: Date
    var publishedAt: Date?
    var publishAttempts: Int

    enum Columns {
        static let sequence = Column("sequence")
        static let storefront = Column("storefront")
        static let orderID = Column("order_id")
        static let createdAt = Column("created_at")
        static let publishedAt = Column("published_at")
        static let publishAttempts = Column("publish_attempts")
    }

    init(envelope: EventEnvelope) throws {
        sequence = nil
        eventID = envelope.id
        storefront = envelope.event.payload.order.storefront?.rawValue ?? ""
        orderID = envelope.subject
        type = envelope.type.rawValue
        body = try envelope.encoded()
        traceparent = envelope.traceparent
        createdAt = envelope.time
        publishedAt = nil
        publishAttempts = 0
    }

    /// Adds the event unless a row with its id exists: the same fact written twice (a replayed
    /// request, two webhooks saying one thing) stays one row and one message.
    static func enqueue(_ envelope: EventEnvelope, in db: Database) throws {
        try OutboxRecord(envelope: envelope).enqueue(in: db)
    }

    /// Inserts the row unless its event id is already there (one cached statement: this runs for
    /// every webhook); returns whether it was added.
    @discardableResult
    func enqueue(in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (event_id, storefront, order_id, type, body, traceparent, created_at, publish_attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(event_id) DO NOTHING
                """
        ).execute(arguments: [eventID, storefront, orderID, type, body, traceparent, createdAt])
        return db.changesCount > 0
    }
}

/// A storefront API key, stored as a hash.
struct StorefrontKeyRecord: GatewayRecord, Identifiable {
    static let databaseTableName = "storefront_key"

    enum Source: String, Codable, Sendable {
        case environment
        case cli
    }

    var id: String
    var name: String
    var keyHash: Data
    var keyPrefix: String
    var source: Source
    var createdAt: Date
    var revokedAt: Date?

    enum Columns {
        static let source = Column("source")
        static let createdAt = Column("created_at")
        static let revokedAt = Column("revoked_at")
    }
}
