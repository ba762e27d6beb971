import Foundation
import GRDB

/// The notification outbox as the sender works it (docs/architecture.md rule 8): read the due
/// rows, send them, then record what became of each.
extension SQLiteFulfillmentStore {
    func claimDueNotifications(at now: Date, limit: Int, lease: Duration) async throws -> [NotificationRecord] {
        try await pool.write { db in
            let rows = try NotificationRecord.fetchAll(
                db,
                sql: """
                    SELECT id, storefront, order_id, kind, recipient, message_id, subject, message, attempts FROM notification
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
                    ORDER BY next_attempt_at, id LIMIT ?
                    """, arguments: [now, now, limit])
            guard !rows.isEmpty else { return [] }
            let ids = rows.map(\.id)
            try db.execute(
                sql: "UPDATE notification SET claimed_until = ? WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                arguments: [now.addingTimeInterval(lease.timeInterval)] + StatementArguments(ids))
            return rows
        }
    }

    /// When the earliest row still to send is due; nil when none waits.
    /// A row claimed by a sender is due again when its claim ends, if it is still unsettled then.
    func nextNotificationDue() async throws -> Date? {
        try await pool.read { db in
            try Date.fetchOne(
                db,
                sql: """
                    SELECT min(max(next_attempt_at, COALESCE(claimed_until, next_attempt_at))) FROM notification
                    WHERE sent_at IS NULL AND failed_at IS NULL
                    """)
        }
    }

    /// One process per SQLite file: a claim still stored when the worker starts was its own
    /// before it stopped (or crashed), and nobody is working on it.
    func releaseAbandonedClaims() async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE notification SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
            try db.execute(sql: "UPDATE event_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
        }
    }

    /// Sent rows are never taken again, failed ones never retried, the others wait until their
    /// next attempt; untried ones are due again at once.
    func markNotifications(_ marks: [NotificationMark], at now: Date) async throws {
        try await pool.write { db in
            for mark in marks {
                switch mark {
                case .sent(let id):
                    try db.execute(
                        sql:
                            "UPDATE notification SET sent_at = ?, attempts = attempts + 1, last_error = NULL, claimed_until = NULL WHERE id = ?",
                        arguments: [now, id])
                case .failed(let id, let attempts, let reason):
                    try db.execute(
                        sql: "UPDATE notification SET failed_at = ?, attempts = ?, last_error = ?, claimed_until = NULL WHERE id = ?",
                        arguments: [now, attempts, reason, id])
                case .retry(let id, let attempts, let reason, let next):
                    try db.execute(
                        sql: "UPDATE notification SET next_attempt_at = ?, attempts = ?, last_error = ?, claimed_until = NULL WHERE id = ?",
                        arguments: [next, attempts, reason, id])
                case .untried(let id):
                    try db.execute(sql: "UPDATE notification SET claimed_until = NULL WHERE id = ?", arguments: [id])
                }
            }
        }
    }
}
