import Foundation
import PostgresNIO
import PostgresSupport

/// The event outbox and the notification outbox as relays and senders of several replicas
/// work them: each round claims rows no other replica holds (`FOR UPDATE SKIP LOCKED`, then a
/// lease written on the row), so a row goes to one replica at a time, and a replica that dies
/// leaves its rows to the others once the lease ends.
extension PostgresFulfillmentStore {
    func claimUnpublishedEvents(limit: Int, at now: Date, lease: Duration) async throws -> [EventOutboxRecord] {
        let until = now.addingTimeInterval(lease.timeInterval)
        let logger = logger
        return try await transaction("claim unpublished events") { connection in
            var records: [EventOutboxRecord] = []
            let rows = try await connection.query(
                """
                WITH next AS (
                    SELECT sequence FROM event_outbox
                    WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= \(now))
                    ORDER BY sequence LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE event_outbox SET claimed_until = \(until) FROM next WHERE event_outbox.sequence = next.sequence
                RETURNING event_outbox.sequence, event_outbox.event_id, event_outbox.type, event_outbox.body, event_outbox.created_at
                """, logger: logger)
            for try await (sequence, eventID, type, body, createdAt) in rows.decode((Int64, String, String, Data, Date).self) {
                records.append(EventOutboxRecord(sequence: sequence, eventID: eventID, type: type, body: body, createdAt: createdAt))
            }
            return records.sorted { $0.sequence < $1.sequence }
        }
    }

    func markEventsPublished(_ sequences: [Int64], at now: Date) async throws {
        let logger = logger
        try await transaction("mark events published") { connection in
            try await connection.execute(
                "UPDATE event_outbox SET published_at = \(now), claimed_until = NULL WHERE sequence = ANY(\(sequences)::bigint[])",
                logger: logger)
        }
    }

    func releaseEvents(_ sequences: [Int64]) async throws {
        let logger = logger
        try await transaction("release event claims") { connection in
            try await connection.execute(
                "UPDATE event_outbox SET claimed_until = NULL WHERE sequence = ANY(\(sequences)::bigint[]) AND published_at IS NULL",
                logger: logger)
        }
    }

    func claimDueNotifications(at now: Date, limit: Int, lease: Duration) async throws -> [NotificationRecord] {
        let until = now.addingTimeInterval(lease.timeInterval)
        let logger = logger
        return try await transaction("claim due emails") { connection in
            var claimed: [(due: Date, record: NotificationRecord)] = []
            let rows = try await connection.query(
                """
                WITH due AS (
                    SELECT id, next_attempt_at FROM notification
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                      AND (claimed_until IS NULL OR claimed_until <= \(now))
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                UPDATE notification SET claimed_until = \(until) FROM due WHERE notification.id = due.id
                RETURNING notification.id, storefront, order_id, kind, recipient, message_id, subject, message, attempts, due.next_attempt_at
                """, logger: logger)
            for try await (id, storefront, orderID, kind, recipient, messageID, subject, message, attempts, due) in rows.decode(
                (Int64, String, String, String, String, String, String, Data, Int32, Date).self)
            {
                claimed.append(
                    (
                        due,
                        NotificationRecord(
                            id: id, storefront: storefront, orderID: orderID, kind: kind, recipient: recipient, messageID: messageID,
                            subject: subject, message: message, attempts: Int(attempts))
                    ))
            }
            return claimed.sorted { ($0.due, $0.record.id) < ($1.due, $1.record.id) }.map(\.record)
        }
    }

    func nextNotificationDue() async throws -> Date? {
        let logger = logger
        return try await transaction("read the next email due") { connection in
            try await connection.scalar(
                """
                SELECT min(GREATEST(next_attempt_at, claimed_until)) FROM notification WHERE sent_at IS NULL AND failed_at IS NULL
                """, as: Date?.self, logger: logger)
                ?? nil
        }
    }

    /// Several replicas share the database: a claim may be a live replica's, so none is
    /// released here; a dead replica's claims end with their lease.
    func releaseAbandonedClaims() async throws {}

    func markNotifications(_ marks: [NotificationMark], at now: Date) async throws {
        let logger = logger
        try await transaction("record email attempts") { connection in
            for mark in marks {
                switch mark {
                case .sent(let id):
                    try await connection.execute(
                        "UPDATE notification SET sent_at = \(now), attempts = attempts + 1, last_error = NULL, claimed_until = NULL WHERE id = \(id)",
                        logger: logger)
                case .failed(let id, let attempts, let reason):
                    try await connection.execute(
                        "UPDATE notification SET failed_at = \(now), attempts = \(Int32(attempts)), last_error = \(reason), claimed_until = NULL WHERE id = \(id)",
                        logger: logger)
                case .retry(let id, let attempts, let reason, let next):
                    try await connection.execute(
                        """
                        UPDATE notification SET next_attempt_at = \(next), attempts = \(Int32(attempts)), last_error = \(reason),
                            claimed_until = NULL
                        WHERE id = \(id)
                        """, logger: logger)
                case .untried(let id):
                    try await connection.execute("UPDATE notification SET claimed_until = NULL WHERE id = \(id)", logger: logger)
                }
            }
        }
    }
}
