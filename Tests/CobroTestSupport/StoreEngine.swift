import Foundation
import Testing

/// The store engines a parameterised suite runs on: SQLite always; PostgreSQL when a server
/// answers at `POSTGRES_URL`, and always under `scripts/test` (which sets
/// `COBRO_REQUIRE_POSTGRES=1`, so a missing server fails instead of narrowing the run).
public enum StoreEngine: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public static var available: [StoreEngine] {
        PostgresFixture.isRequired || PostgresFixture.isReachable ? [.sqlite, .postgres] : [.sqlite]
    }

    public var testDescription: String { rawValue }
}

extension PostgresFixture {
    /// A fresh database of its own on the test server, and its URL (drop it with `dropDatabase`).
    public static func makeDatabaseURL() async throws -> (name: String, url: String) {
        let name = try await makeDatabase()
        guard var components = URLComponents(string: url) else { throw InvalidURL() }
        components.path = "/\(name)"
        components.query = "sslmode=disable"
        return (name, try #require(components.string))
    }
}
