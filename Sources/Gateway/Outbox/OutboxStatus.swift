import Foundation

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

    public static func read(_ store: GatewayStore, now: Date = Date()) async throws -> OutboxStatus {
        try await store.outboxStatus(now: now)
    }
}
