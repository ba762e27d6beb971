import Foundation
import GRDB

/// The notification outbox as the sender works it (docs/architecture.md rule 8): read the due
/// rows, send them, then record what became of each.
extension FulfillmentStore {
    /// Up to `limit` rows neither sent nor failed whose next attempt is due at `now`, the most
    /// overdue first. A read, not a lease: the worker has one sender per database.
    func dueNotifications(at now: Date, limit: Int) async throws -> [NotificationRecord] {
        try await pool.read { db in
            try NotificationRecord.fetchAll(
                db,
                sql: """
                    SELECT id, storefront, order_id, kind, recipient, message_id, subject, message, attempts FROM notification
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                    """, arguments: [now, limit])
        }
    }

    /// When the earliest row still to send is due; nil when none waits.
    func nextNotificationDue() async throws -> Date? {
        try await pool.read { db in
            try NotificationRecord.unsettled.select(min(NotificationRecord.Columns.nextAttemptAt), as: Date.self).fetchOne(db)
        }
    }

    /// Records the outcome of each attempt in one transaction, stamped `now`: sent rows are
    /// never taken again, failed ones never retried, the others wait until their next attempt.
    func markNotifications(_ marks: [NotificationMark], at now: Date) async throws {
        try await pool.write { db in
            for mark in marks {
                switch mark {
                case .sent(let id):
                    try db.execute(
                        sql: "UPDATE notification SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                        arguments: [now, id])
                case .failed(let id, let attempts, let reason):
                    try db.execute(
                        sql: "UPDATE notification SET failed_at = ?, attempts = ?, last_error = ? WHERE id = ?",
                        arguments: [now, attempts, reason, id])
                case .retry(let id, let attempts, let reason, let next):
                    try db.execute(
                        sql: "UPDATE notification SET next_attempt_at = ?, attempts = ?, last_error = ? WHERE id = ?",
                        arguments: [next, attempts, reason, id])
                }
            }
        }
    }
}
