import Foundation
import GRDB

/// The outbox: domain events written with the state they describe, carried to the broker by the
/// relay (docs/architecture.md rule 5).
extension SQLiteGatewayStore {
    /// The next batch to publish: the oldest unpublished row of each order, oldest first, at most
    /// `limit`. One row per order, so a failure can never let an order's later event overtake an
    /// earlier one.
    func claimOutboxBatch(limit: Int) async throws -> [OutboxRecord] {
        try await pool.read { db in try OutboxRecord.fetchAll(db, sql: Self.outboxBatchQuery, arguments: [limit]) }
    }

    static let outboxBatchQuery = """
        SELECT outbox.* FROM outbox
        JOIN (SELECT MIN(sequence) AS first FROM outbox WHERE published_at IS NULL GROUP BY storefront, order_id) AS heads
          ON outbox.sequence = heads.first
        ORDER BY outbox.sequence
        LIMIT ?
        """

    /// Records what the broker said about a batch, in one transaction: the `published` rows
    /// (acknowledged) are marked published at `now`; every row counts an attempt.
    func markOutbox(published: [Int64], failed: [Int64], now: Date) async throws {
        typealias Columns = OutboxRecord.Columns
        try await pool.write { db in
            if !published.isEmpty {
                try OutboxRecord.filter(published.contains(Columns.sequence))
                    .updateAll(db, Columns.publishedAt.set(to: now), Columns.publishAttempts += 1)
            }
            if !failed.isEmpty {
                try OutboxRecord.filter(failed.contains(Columns.sequence))
                    .updateAll(db, Columns.publishAttempts += 1)
            }
        }
    }

    /// Rows waiting and the oldest one's age: the cheap part (an index scan), for the relay's gauges.
    func outboxWaiting(now: Date) async throws -> (depth: Int, oldestAgeSeconds: Double?) {
        try await pool.read { db in try Self.outboxWaiting(now: now, in: db) }
    }

    /// How far behind the relay is, history included (the `outbox status` command).
    func outboxStatus(now: Date) async throws -> OutboxStatus {
        try await pool.read { db in
            let waiting = try Self.outboxWaiting(now: now, in: db)
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL) AS published,
                           (SELECT MAX(published_at) FROM outbox) AS last_published
                    """)!
            return OutboxStatus(
                depth: waiting.depth, oldestAgeSeconds: waiting.oldestAgeSeconds,
                publishedTotal: row["published"], lastPublishedAt: row["last_published"]
            )
        }
    }

    private static func outboxWaiting(now: Date, in db: Database) throws -> (depth: Int, oldestAgeSeconds: Double?) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL")!
        let oldest: Date? = row["oldest"]
        return (row["depth"], oldest.map { max(0, now.timeIntervalSince($0)) })
    }
}
