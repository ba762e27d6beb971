import Foundation
import GRDB
import ServiceRuntime

/// The worker's store: one SQLite file in WAL mode behind named operations (what the worker
/// does with its data, never how), in the style of GRDB's `AppDatabase`. Records are plain
/// structs, the schema lives in one place (`FulfillmentStore+Migrations.swift`) and every write
/// goes through the pool's one writer.
///
/// The operations are shaped as the worker's units of work ("apply this batch of deliveries",
/// "the due notifications", "mark these events published") so that another engine can stand
/// behind the same names; nothing outside `Store/` sees GRDB's pool or writes SQL.
///
/// A message's effects (stock, holds, sale, email row, outgoing event) and the row that marks
/// the message processed are written in one transaction, so a crash leaves either all of them
/// or none, and a redelivered message finds its row and changes nothing (docs/architecture.md
/// rule 7).
public struct FulfillmentStore: Sendable {
    /// Internal, never public: the rest of the module goes through the named operations of the
    /// `FulfillmentStore+…` files; tests (`@testable`) may read through it.
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
