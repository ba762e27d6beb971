import Foundation
import GRDB

/// The gateway's store on SQLite, the embedded default: one file in WAL mode, every schema change
/// registered in one place (`SQLiteGatewayStore+Migrations.swift`), all writes through this one
/// writer, so one gateway process owns the file.
///
/// The operations are `GatewayEngine`'s, in the extensions beside this file (`+Checkouts`,
/// `+Webhooks`, `+Outbox`, `+Idempotency`, `+Keys`, `+Customers`, `+EventLog`); GRDB and the
/// SQL stay in this folder.
struct SQLiteGatewayStore: GatewayEngine {
    /// Internal so that tests (`@testable import Gateway`) may look at rows directly; the rest
    /// of the gateway goes through named operations.
    let pool: DatabasePool

    /// Opens (creating folders as needed) and migrates the database at `path`.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // WAL with NORMAL sync (GRDB's choice, made when it switches the writer to WAL, after
        // prepareDatabase) can lose the last commits on power loss. An answer to a storefront or
        // to Fintoc promises durability, so the writer syncs every commit.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
    }

    /// Whether the store answers a read (for `/readyz`).
    func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) != nil
    }
}
