import Foundation
import GRDB

/// The event outbox as the relay works it: claim the next unpublished rows in the order they
/// were written, publish them, mark those the broker confirmed.
extension SQLiteFulfillmentStore {
    func claimUnpublishedEvents(limit: Int, at now: Date, lease: Duration) async throws -> [EventOutboxRecord] {
        try await pool.write { db in
            let rows = try EventOutboxRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM event_outbox WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)
                    ORDER BY sequence LIMIT ?
                    """, arguments: [now, limit])
            guard !rows.isEmpty else { return [] }
            try Self.setClaims(db, rows.map(\.sequence), until: now.addingTimeInterval(lease.timeInterval))
            return rows
        }
    }

    func markEventsPublished(_ sequences: [Int64], at now: Date) async throws {
        let arguments: StatementArguments = [now] + StatementArguments(sequences)
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE event_outbox SET published_at = ?, claimed_until = NULL
                    WHERE sequence IN (\(sequences.map { _ in "?" }.joined(separator: ",")))
                    """,
                arguments: arguments)
        }
    }

    func releaseEvents(_ sequences: [Int64]) async throws {
        try await pool.write { db in try Self.setClaims(db, sequences, until: nil) }
    }

    private static func setClaims(_ db: Database, _ sequences: [Int64], until: Date?) throws {
        let arguments: StatementArguments = [until] + StatementArguments(sequences)
        try db.execute(
            sql: "UPDATE event_outbox SET claimed_until = ? WHERE sequence IN (\(sequences.map { _ in "?" }.joined(separator: ",")))",
            arguments: arguments)
    }
}
