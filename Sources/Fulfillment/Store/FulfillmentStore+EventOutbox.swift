import Foundation
import GRDB

/// The event outbox as the relay works it: take the next unpublished rows in the order they
/// were written, publish them, mark those the broker confirmed.
extension FulfillmentStore {
    /// The next `limit` unpublished events, oldest first.
    func nextUnpublishedEvents(limit: Int) async throws -> [EventOutboxRecord] {
        try await pool.read { db in
            try EventOutboxRecord.fetchAll(
                db, sql: "SELECT * FROM event_outbox WHERE published_at IS NULL ORDER BY sequence LIMIT ?", arguments: [limit])
        }
    }

    /// Marks the events with these sequence numbers published at `now`, in one transaction;
    /// call it only after the broker confirmed them, so none is ever marked and lost.
    func markEventsPublished(_ sequences: [Int64], at now: Date) async throws {
        guard !sequences.isEmpty else { return }
        let arguments: StatementArguments = [now] + StatementArguments(sequences)
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE event_outbox SET published_at = ? WHERE sequence IN (\(sequences.map { _ in "?" }.joined(separator: ",")))",
                arguments: arguments)
        }
    }
}
