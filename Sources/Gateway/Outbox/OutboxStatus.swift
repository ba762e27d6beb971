import Foundation
import GRDB

/// How far behind the relay is: what `payments-gateway outbox status`, `/metrics` and `/readyz`
/// report.
public struct OutboxStatus: Sendable, Hashable, Codable {
    /// Rows not yet acknowledged by the broker.
    public let depth: Int
    /// Age of the oldest such row; nil when none waits.
    public let oldestAgeSeconds: Double?
    public let publishedTotal: Int
    public let lastPublishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case depth
        case oldestAgeSeconds = "oldest_age_seconds"
        case publishedTotal = "published_total"
        case lastPublishedAt = "last_published_at"
    }

    public static func read(_ database: GatewayDatabase, now: Date = Date()) async throws -> OutboxStatus {
        try await database.pool.read { db in try read(db, now: now) }
    }

    /// Rows waiting and the oldest one's age: the cheap part, for the relay's gauges.
    static func waiting(_ db: Database, now: Date) throws -> (depth: Int, oldestAgeSeconds: Double?) {
        let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL")!
        let oldest: Date? = row["oldest"]
        return (row["depth"], oldest.map { max(0, now.timeIntervalSince($0)) })
    }

    static func read(_ db: Database, now: Date) throws -> OutboxStatus {
        let waiting = try waiting(db, now: now)
        let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL) AS published,
                   (SELECT MAX(published_at) FROM outbox) AS last_published
            """)!
        return OutboxStatus(
            depth: waiting.depth, oldestAgeSeconds: waiting.oldestAgeSeconds,
            publishedTotal: row["published"], lastPublishedAt: row["last_published"]
        )
    }
}
