import Foundation
import GRDB

/// One of the worker's own events (`order.confirmed`, `order.backordered`) waiting in the event
/// outbox: written with the sale it announces, published by the relay after it commits.
struct EventOutboxRecord: Sendable, FetchableRecord, TableRecord, Decodable {
    static let databaseTableName = "event_outbox"
    /// The order of writing, which is the order of publishing.
    var sequence: Int64
    var eventID: String
    var type: String
    var body: Data
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case sequence, type, body
        case eventID = "event_id"
        case createdAt = "created_at"
    }

    /// The table's columns, the publication state included (which the record does not carry).
    enum Columns {
        static let sequence = Column(CodingKeys.sequence)
        static let eventID = Column(CodingKeys.eventID)
        static let type = Column(CodingKeys.type)
        static let storefront = Column("storefront")
        static let orderID = Column("order_id")
        static let body = Column(CodingKeys.body)
        static let createdAt = Column(CodingKeys.createdAt)
        /// Set once the broker confirmed the publish; never published again after that.
        static let publishedAt = Column("published_at")
    }
}
