import Foundation
import GRDB

/// Leases (`GatewayStore` says what each operation does). One gateway process owns an SQLite
/// file, so it always gets them; the same code path runs as on PostgreSQL.
extension SQLiteGatewayStore {
    func takeLease(_ name: String, holder: String, for duration: Duration) async throws -> Bool {
        try await pool.write { db in
            let now = Date()
            try db.execute(
                sql: """
                    INSERT INTO lease (name, holder, expires_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                    WHERE lease.holder = excluded.holder OR lease.expires_at <= ?
                    """, arguments: [name, holder, now.addingTimeInterval(duration.timeInterval), now])
            return db.changesCount > 0
        }
    }

    func releaseLease(_ name: String, holder: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM lease WHERE name = ? AND holder = ?", arguments: [name, holder])
        }
    }
}
