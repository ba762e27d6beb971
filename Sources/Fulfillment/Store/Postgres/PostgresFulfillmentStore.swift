import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import ServiceRuntime

/// The worker's store on PostgreSQL: one database shared by any number of worker replicas.
/// The operations and their decisions are SQLite's (`SQLiteFulfillmentStore`); what changes is
/// that several writers run at once, so:
///
/// - a batch of deliveries first takes a transaction lock per order and then locks its
///   products' rows, each in one fixed order (orders by their lock key, products by SKU), so
///   two workers never oversell a SKU, never apply two events of one order at once, and never
///   deadlock on each other (`PostgresFulfillmentStore+Deliveries.swift`);
/// - the processed-message row is the inbox: `INSERT … ON CONFLICT DO NOTHING` makes a message
///   that another replica already applied a duplicate;
/// - the email sender and the event relay claim rows with `FOR UPDATE SKIP LOCKED` for a lease.
///
/// Migrations are this engine's own (`PostgresFulfillmentStore+Migrations.swift`), applied once
/// across replicas under an advisory lock.
struct PostgresFulfillmentStore: FulfillmentEngine {
    let database: PostgresPool
    let logger: Logger
    /// Advisory-lock keys of this store (the first half of the two-key form). The gateway's
    /// database is another database, so its keys never meet these.
    enum LockSpace {
        /// Held while migrating (session lock).
        static let migrations: Int64 = 0x434F_4252_0001
        /// Per order, for the length of a delivery batch (transaction lock, with the order's hash).
        static let orders: Int32 = 0x4342_0002
    }

    init(database: PostgresPool, logger: Logger) async throws {
        self.database = database
        self.logger = logger
        try await database.migrate(Self.migrations, table: "fulfillment_migration", lockKey: LockSpace.migrations, logger: logger)
    }

    var client: PostgresClient { database.client }

    func isReachable() async -> Bool {
        await database.isReachable()
    }

    /// Runs `body` in one transaction (`PostgresPool.transaction`): a statement waits at most the
    /// busy timeout for another transaction's lock, and a batch that fails so goes through the
    /// retry queues, as a busy SQLite file does.
    func transaction<T>(_ what: String, _ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        try await database.transaction(what, logger: logger, body)
    }
}
