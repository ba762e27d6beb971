import Foundation
import GRDB
import ServiceRuntime

/// The worker's store on SQLite, the embedded default: one file in WAL mode, in the style of
/// GRDB's `AppDatabase`. Records are plain structs, the schema lives in one place
/// (`SQLiteFulfillmentStore+Migrations.swift`) and every write goes through the pool's one
/// writer, which is why no statement here locks rows: one process writes at a time.
struct SQLiteFulfillmentStore: FulfillmentEngine {
    /// Tests (`@testable`) may read through it.
    let pool: DatabasePool

    /// Opens (creating folders as needed) and migrates the database at `path`.
    public init(path: String, busyTimeout: Duration = .seconds(30)) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.timeInterval)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets synchronous = NORMAL when it switches the writer to WAL (after
        // prepareDatabase); an ack to the broker promises the effects survive a power loss, so
        // the writer syncs every commit.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
    }
}
