import Foundation
import Logging
import PostgresNIO
import PostgresSupport

/// The gateway's store on PostgreSQL: one database shared by any number of gateway replicas.
/// The operations and their decisions are SQLite's (`SQLiteGatewayStore`); what changes is that
/// several writers run at once, so:
///
/// - a group of Fintoc events takes a transaction lock per order it touches (and per payment
///   intent it names) before it reads anything, in one fixed order, so two replicas applying
///   events of one order end as one replica would, and a plan worked out before the lock is
///   checked against the checkout's version under it (`PostgresGatewayStore+Webhooks.swift`);
/// - recording and expiring a checkout take the same order lock;
/// - the inbox's primary key makes an event another replica already took a duplicate;
/// - an idempotency key is claimed with one insert that only one request can win.
///
/// Migrations are this engine's own (`PostgresGatewayStore+Migrations.swift`), applied once
/// across replicas under an advisory lock.
struct PostgresGatewayStore: GatewayEngine {
    let database: PostgresPool
    let logger: Logger

    /// How long a statement waits for another transaction's lock (SQLite's busy timeout is the
    /// same 10 s): past it the transaction fails, and the storefront or Fintoc retries.
    static let lockTimeout: Duration = .seconds(10)

    /// Advisory-lock keys of this store (the first half of the two-key form). The worker's
    /// database is another database, so its keys never meet these.
    enum LockSpace {
        /// Held while migrating (session lock).
        static let migrations: Int64 = 0x434F_4252_1001
        /// Per order, or per payment intent, while its events or checkouts are written
        /// (transaction lock, with the hash of the key).
        static let orders: Int32 = 0x4342_1002
        /// While configured storefront keys are synced (transaction lock).
        static let keys: Int32 = 0x4342_1003
    }

    init(database: PostgresPool, logger: Logger) async throws {
        self.database = database
        self.logger = logger
        try await database.migrate(Self.migrations, table: "gateway_migration", lockKey: LockSpace.migrations, logger: logger)
    }

    func isReachable() async -> Bool {
        await database.isReachable()
    }

    /// Runs `body` in one transaction (`PostgresPool.transaction`).
    func transaction<T>(_ what: String, _ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        try await database.transaction(what, logger: logger, body)
    }

    /// Takes the transaction locks of `keys` (order and payment-intent keys, see `LockKey`), in
    /// the one order every transaction uses, so two never wait on each other in a circle.
    static func lock(_ keys: Set<String>, on connection: PostgresConnection, logger: Logger) async throws {
        guard !keys.isEmpty else { return }
        let keys = keys.sorted()
        try await connection.execute(
            """
            SELECT pg_advisory_xact_lock(\(LockSpace.orders), key) FROM (
                SELECT DISTINCT hashtext(lock_key) AS key FROM unnest(\(keys)::text[]) AS t(lock_key) ORDER BY key
            ) AS sorted
            """, logger: logger)
    }
}

/// The names of the transaction locks: one per order (its storefront and id) and one per
/// payment intent, so an event about an intent not yet tied to a checkout and the event that
/// ties it are applied one after the other.
enum LockKey {
    static func order(storefront: String, id: String) -> String { "order\u{1F}\(storefront)\u{1F}\(id)" }
    static func intent(_ id: String) -> String { "intent\u{1F}\(id)" }
}
