import Foundation
import PostgresNIO

/// Leases (`GatewayStore` says what each operation does), timed by the database's clock.
extension PostgresGatewayStore {
    func takeLease(_ name: String, holder: String, for duration: Duration) async throws -> Bool {
        let logger = logger
        return try await transaction("take the \(name) lease") { connection in
            try await connection.count(
                """
                INSERT INTO lease (name, holder, expires_at) VALUES (\(name), \(holder), now() + make_interval(secs => \(duration.timeInterval)))
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE lease.holder = excluded.holder OR lease.expires_at <= now()
                RETURNING 1
                """, logger: logger) == 1
        }
    }

    func releaseLease(_ name: String, holder: String) async throws {
        let logger = logger
        try await transaction("release the \(name) lease") { connection in
            try await connection.execute("DELETE FROM lease WHERE name = \(name) AND holder = \(holder)", logger: logger)
        }
    }
}
