import Foundation
import Logging
import PostgresNIO

/// A PostgresNIO client whose connection pool runs for as long as this value lives (or until
/// `close()`), plus what both services' stores need on top of it: versioned migrations taken
/// once across replicas, and errors that say what the server said.
public final class PostgresPool: Sendable {
    public let client: PostgresClient
    public let url: PostgresURL
    private let runner: Task<Void, Never>
    /// Sets how long a statement of `transaction` waits for another transaction's lock before
    /// its transaction fails (`lock_timeout`, in milliseconds), as SQLite's busy timeout does.
    /// Made once; SET takes a number, not a bound value.
    private let setLockTimeout: String

    /// Checks with one connection that the server answers and lets us in (so a wrong address
    /// or password fails at once, with the server's reason, rather than after the pool's
    /// retries), then opens a pool of at most `maximumConnections` to `url`. The transactions
    /// of `transaction` wait at most `lockTimeout` for a lock.
    public init(url: PostgresURL, maximumConnections: Int, lockTimeout: Duration, logger: Logger) async throws {
        self.url = url
        setLockTimeout = "SET LOCAL lock_timeout = \(max(1, Int((lockTimeout.timeInterval * 1000).rounded())))"
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: try url.connectionConfiguration(), id: 0, logger: logger
            ).get()
            try await connection.close()
        } catch {
            throw PostgresFailure(error, doing: "connect to \(url)")
        }
        let client = PostgresClient(
            configuration: try url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        self.client = client
        // Started at once, on this task's executor up to its first suspension: the pool is
        // running before the first query leases a connection.
        runner = Task.immediate { await client.run() }
    }

    deinit { runner.cancel() }

    /// Runs `body` in one transaction, whose statements wait at most the lock timeout for a lock.
    /// A PostgreSQL error comes out as a `PostgresFailure` naming `what`; an error of `body`'s
    /// own as it was thrown.
    public func transaction<T>(_ what: String, logger: Logger, _ body: (PostgresConnection) async throws -> sending T) async throws
        -> sending T
    {
        let setLockTimeout = setLockTimeout
        do {
            return try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: setLockTimeout), logger: logger)
                return try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            // The body's own error (a refusal, a lookup that found nothing) comes out as it was
            // thrown; the transaction was rolled back.
            if let thrown = error.closureError, !(thrown is PSQLError), !(thrown is PostgresFailure), error.rollbackError == nil {
                throw thrown
            }
            throw PostgresFailure(error, doing: what)
        } catch {
            throw PostgresFailure(error, doing: what)
        }
    }

    /// Whether the server answers a query (for `/readyz`).
    public func isReachable() async -> Bool {
        (try? await client.query("SELECT 1")) != nil
    }

    /// Applies the `migrations` this database has not seen, in order, each in its own
    /// transaction, and records each in `table`. Replicas starting together take turns on a
    /// session advisory lock (`lockKey`), so each migration runs once. A database migrated by a
    /// newer version (one it does not know) is refused rather than guessed at.
    public func migrate(_ migrations: [PostgresMigration], table: String, lockKey: Int64, logger: Logger) async throws {
        try await client.withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await Self.applyMigrations(migrations, table: table, on: connection, logger: logger)
                _ = try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func applyMigrations(
        _ migrations: [PostgresMigration], table: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        _ = try await connection.query(
            PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(table) (identifier text PRIMARY KEY, applied_at timestamptz NOT NULL)"),
            logger: logger)
        var applied: Set<String> = []
        for try await identifier in try await connection.query(PostgresQuery(unsafeSQL: "SELECT identifier FROM \(table)"), logger: logger)
            .decode(String.self)
        {
            applied.insert(identifier)
        }
        let known = Set(migrations.map(\.identifier))
        if let unknown = applied.subtracting(known).sorted().first {
            throw PostgresFailure(
                message: "the database was migrated by a newer version (\"\(unknown)\" is unknown here): run that version, or a newer one")
        }
        for migration in migrations where !applied.contains(migration.identifier) {
            do {
                try await connection.withTransaction(logger: logger) { connection in
                    for statement in migration.statements {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    _ = try await connection.query(
                        PostgresQuery(
                            unsafeSQL: "INSERT INTO \(table) (identifier, applied_at) VALUES ($1, now())",
                            binds: {
                                var binds = PostgresBindings()
                                binds.append(migration.identifier)
                                return binds
                            }()), logger: logger)
                }
            } catch {
                throw PostgresFailure(error, doing: "apply migration \"\(migration.identifier)\"")
            }
            logger.info("database migrated", metadata: ["migration": "\(migration.identifier)"])
        }
    }
}

/// One schema change: statements run in one transaction. Released migrations are never edited;
/// a change is a new migration at the end.
public struct PostgresMigration: Sendable {
    public let identifier: String
    public let statements: [String]

    public init(_ identifier: String, _ statements: [String]) {
        self.identifier = identifier
        self.statements = statements
    }
}

/// A PostgreSQL failure in words an operator can act on. PostgresNIO's own description hides
/// the server's message (it may quote data); this keeps the SQLSTATE and the message, never
/// the query's bound values.
public struct PostgresFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// The server's SQLSTATE, when the server answered (e.g. `40P01` for a deadlock).
    public let sqlState: String?

    public init(message: String, sqlState: String? = nil) {
        description = message
        self.sqlState = sqlState
    }

    public init(_ error: any Error, doing what: String) {
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.closureError ?? transaction.commitError ?? transaction.beginError
        {
            self.init(inner, doing: what)
        } else if let failure = error as? PostgresFailure {
            self.init(message: "cannot \(what): \(failure.description)", sqlState: failure.sqlState)
        } else if let error = error as? PSQLError {
            let state = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            self.init(message: "cannot \(what): \(message)" + (state.map { " (SQLSTATE \($0))" } ?? ""), sqlState: state)
        } else {
            self.init(message: "cannot \(what): \(error)")
        }
    }
}
