import Foundation
import GRDB

/// One row of the notification outbox, as the sender reads it: who gets which rendered
/// message, and how many attempts it took so far.
struct NotificationRecord: Sendable, Codable, FetchableRecord, TableRecord {
    static let databaseTableName = "notification"
    var id: Int64
    var storefront: String
    var orderID: String
    var kind: String
    var recipient: String
    var messageID: String
    var subject: String
    var message: Data
    var attempts: Int

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, storefront, kind, recipient, subject, message, attempts
        case orderID = "order_id"
        case messageID = "message_id"
    }

    /// The table's columns, the delivery state included (which the record does not carry).
    enum Columns {
        static let id = Column(CodingKeys.id)
        static let storefront = Column(CodingKeys.storefront)
        static let orderID = Column(CodingKeys.orderID)
        static let kind = Column(CodingKeys.kind)
        static let recipient = Column(CodingKeys.recipient)
        static let messageID = Column(CodingKeys.messageID)
        static let subject = Column(CodingKeys.subject)
        static let message = Column(CodingKeys.message)
        static let attempts = Column(CodingKeys.attempts)
        static let createdAt = Column("created_at")
        static let nextAttemptAt = Column("next_attempt_at")
        static let sentAt = Column("sent_at")
        /// Set when the server refused for good; such a row is never retried.
        static let failedAt = Column("failed_at")
        static let lastError = Column("last_error")
    }

    /// Rows neither sent nor failed for good: the sender's backlog.
    static var unsettled: QueryInterfaceRequest<NotificationRecord> {
        filter(Columns.sentAt == nil && Columns.failedAt == nil)
    }
}

/// What became of one attempt to send a notification, as the outbox records it.
enum NotificationMark: Sendable, Hashable {
    /// The server accepted it: never sent again.
    case sent(id: Int64)
    /// The server refused it for good: never retried.
    case failed(id: Int64, attempts: Int, reason: String)
    /// It may go through later: due again at `nextAttemptAt`.
    case retry(id: Int64, attempts: Int, reason: String, nextAttemptAt: Date)
    /// Claimed but not attempted (the round stopped early): due again at once, for any sender.
    case untried(id: Int64)
}
