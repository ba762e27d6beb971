import Foundation
import Logging
import PostgresSupport

/// The worker's store, on the engine its configuration names (docs/architecture.md, "Store
/// engines"): an SQLite file, the embedded default, or a PostgreSQL database shared by any
/// number of worker replicas. The worker calls named operations, shaped as its units of work
/// ("apply this batch of deliveries", "claim the due emails", "mark these events published");
/// nothing outside `Store/` sees SQL or knows the engine.
///
/// A message's effects (stock, holds, sale, email row, outgoing event) and the row that marks
/// the message processed are written in one transaction, so a crash leaves either all of them
/// or none, and a redelivered message finds its row and changes nothing (docs/architecture.md
/// rule 7).
public struct FulfillmentStore: Sendable {
    /// Internal: tests (`@testable`) may look through it at the engine's own rows.
    let engine: any FulfillmentEngine

    init(engine: any FulfillmentEngine) {
        self.engine = engine
    }

    /// Opens (creating folders as needed) and migrates the SQLite file at `path`.
    public init(path: String, busyTimeout: Duration = .seconds(30)) throws {
        self.init(engine: try SQLiteFulfillmentStore(path: path, busyTimeout: busyTimeout))
    }

    /// Opens and migrates the store at `location`: an SQLite file, or a PostgreSQL database
    /// (with a pool of at most `maximumConnections`). `busyTimeout` is how long a write waits
    /// for another writer's lock (SQLite's busy timeout, PostgreSQL's `lock_timeout`).
    public static func open(
        _ location: DatabaseLocation, busyTimeout: Duration = .seconds(30), maximumConnections: Int = 8,
        logger: Logger = Logger(label: "fulfillment-store")
    ) async throws -> FulfillmentStore {
        switch location {
        case .sqlite(let path):
            return try FulfillmentStore(path: path, busyTimeout: busyTimeout)
        case .postgres(let url):
            let database = try await PostgresPool(
                url: url, maximumConnections: maximumConnections, lockTimeout: busyTimeout, logger: logger)
            let engine = try await PostgresFulfillmentStore(database: database, logger: logger)
            return FulfillmentStore(engine: engine)
        }
    }

    func apply(_ plans: [DeliveryPlan]) async throws -> [Result<DeliveryResult, any Error>] {
        try await engine.apply(plans)
    }

    /// How long a relay or an email sender may hold rows before another replica takes them: a
    /// relay's round is one confirmed publish; a sender starts no send after a third of its
    /// lease, and one SMTP send takes at most 60 s.
    static let eventClaimLease: Duration = .seconds(60)
    static let notificationClaimLease: Duration = .seconds(180)

    func claimUnpublishedEvents(limit: Int, at now: Date = Date()) async throws -> [EventOutboxRecord] {
        try await engine.claimUnpublishedEvents(limit: limit, at: now, lease: Self.eventClaimLease)
    }

    func markEventsPublished(_ sequences: [Int64], at now: Date) async throws {
        guard !sequences.isEmpty else { return }
        try await engine.markEventsPublished(sequences, at: now)
    }

    func releaseEvents(_ sequences: [Int64]) async throws {
        guard !sequences.isEmpty else { return }
        try await engine.releaseEvents(sequences)
    }

    func releaseAbandonedClaims() async throws {
        try await engine.releaseAbandonedClaims()
    }

    func claimDueNotifications(at now: Date, limit: Int) async throws -> [NotificationRecord] {
        try await engine.claimDueNotifications(at: now, limit: limit, lease: Self.notificationClaimLease)
    }

    func nextNotificationDue() async throws -> Date? {
        try await engine.nextNotificationDue()
    }

    func markNotifications(_ marks: [NotificationMark], at now: Date) async throws {
        guard !marks.isEmpty else { return }
        try await engine.markNotifications(marks, at: now)
    }

    func housekeepingCounts(at now: Date) async throws -> HousekeepingCounts {
        try await engine.housekeepingCounts(at: now)
    }

    func releaseExpiredHolds(at now: Date) async throws -> Int {
        try await engine.releaseExpiredHolds(at: now)
    }

    func isReachable() async -> Bool {
        await engine.isReachable()
    }

    /// Every product by SKU, or only `sku` (empty when there is no such product), with the
    /// units that holds live at `now` promise.
    public func stockLevels(sku: String? = nil, at now: Date = Date()) async throws -> [StockLevel] {
        try await engine.stockLevels(sku: sku, at: now)
    }

    /// Sets the units on hand of an existing product (after a count, say); false when there is
    /// no such SKU, in which case nothing changed.
    public func setOnHand(sku: String, to quantity: Int64, at now: Date = Date()) async throws -> Bool {
        try await engine.setOnHand(sku: sku, to: quantity, at: now)
    }

    /// Inserts or updates products (name and on-hand units) as a CSV import does: all rows in
    /// one transaction, so a failed import changes nothing.
    public func importInventory(_ rows: [InventoryRow], at now: Date = Date()) async throws {
        try await engine.importInventory(rows, at: now)
    }
}

/// What housekeeping reads for its gauges, in one snapshot.
struct HousekeepingCounts: Sendable, Hashable {
    /// Holds that lapsed but are still stored (they already count for nothing).
    var expiredHolds: Int
    /// Holds that still promise units to an open checkout.
    var liveHolds: Int
    /// Emails neither sent nor failed for good.
    var emailBacklog: Int
}
