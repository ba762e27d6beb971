import Foundation

/// The worker's store operations, which each engine implements with its own statements and
/// migrations: `SQLiteFulfillmentStore` (one file, one writer) and `PostgresFulfillmentStore`
/// (one database, any number of worker replicas). The rest of the worker sees them through
/// `FulfillmentStore` and never learns which engine is behind it.
protocol FulfillmentEngine: Sendable {
    /// Carries out a batch of plans in ONE transaction (one commit for the whole batch), each
    /// in a savepoint of its own: a plan that fails is rolled back alone and its error returned
    /// in its place, while the others commit (docs/architecture.md rule 7). Every plan of a
    /// batch sees the same "now". When the commit fails this throws, and nothing is stored.
    func apply(_ plans: [DeliveryPlan]) async throws -> [Result<DeliveryResult, any Error>]

    /// Up to `limit` unpublished events, oldest first, that no relay holds: each is claimed
    /// until `now + lease`, so a relay that dies lets another take them after the lease.
    func claimUnpublishedEvents(limit: Int, at now: Date, lease: Duration) async throws -> [EventOutboxRecord]
    /// Marks these events published at `now`; only after the broker confirmed them.
    func markEventsPublished(_ sequences: [Int64], at now: Date) async throws
    /// Gives back claims on events that were not published, for the next round to take.
    func releaseEvents(_ sequences: [Int64]) async throws

    /// Up to `limit` emails due at `now`, the most overdue first, that no sender holds: each
    /// is claimed until `now + lease`, so a sender that dies mid-send lets another take it
    /// after the lease. Every mark ends the claim.
    func claimDueNotifications(at now: Date, limit: Int, lease: Duration) async throws -> [NotificationRecord]
    /// When the earliest email still to send is due; nil when none waits.
    func nextNotificationDue() async throws -> Date?
    /// Records the outcome of each attempt in one transaction, stamped `now`.
    func markNotifications(_ marks: [NotificationMark], at now: Date) async throws

    /// At a worker's start: ends the claims nobody can be working on (on SQLite, all of them;
    /// on PostgreSQL none, as other replicas may be live).
    func releaseAbandonedClaims() async throws

    func housekeepingCounts(at now: Date) async throws -> HousekeepingCounts
    /// Deletes the holds that lapsed by `now`; returns how many went.
    func releaseExpiredHolds(at now: Date) async throws -> Int
    /// Whether the database answers a query (for `/readyz`).
    func isReachable() async -> Bool

    func stockLevels(sku: String?, at now: Date) async throws -> [StockLevel]
    func setOnHand(sku: String, to quantity: Int64, at now: Date) async throws -> Bool
    func importInventory(_ rows: [InventoryRow], at now: Date) async throws
}
