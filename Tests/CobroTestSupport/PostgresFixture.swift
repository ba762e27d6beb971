import Foundation
import Logging
import PostgresNIO
import Testing

/// The test PostgreSQL server (started by scripts/test through scripts/postgres), with a
/// database per test so no test sees another's rows.
public enum PostgresFixture {
    /// `POSTGRES_URL`, or the address scripts/postgres uses by default.
    public static var url: String {
        ProcessInfo.processInfo.environment["POSTGRES_URL"] ?? "postgres://cobro:cobro@127.0.0.1:30432/cobro"
    }

    /// Whether `scripts/test` asked for every PostgreSQL test to run.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["COBRO_REQUIRE_POSTGRES"] == "1" }

    /// Whether something accepts TCP connections at `POSTGRES_URL`'s host and port.
    public static let isReachable: Bool = {
        guard let components = URLComponents(string: url), let host = components.host else { return false }
        return BrokerFixture.canConnect(host: host, port: components.port ?? 5432, timeoutMilliseconds: 500)
    }()

    public struct InvalidURL: Error, CustomStringConvertible {
        public let description = "POSTGRES_URL is not a postgres://user:password@host:port/database URL"
    }

    /// A client configuration for `database` on the test server (no TLS: loopback only).
    public static func configuration(database: String? = nil) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw InvalidURL()
        }
        let name = database ?? String(components.path.dropFirst())
        return PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password, database: name, tls: .disable)
    }

    /// Runs `body` with a client of `database` on the test server, the client's connection pool
    /// running meanwhile and shut down after.
    public static func withClient<T: Sendable>(
        database: String? = nil, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(
            configuration: try configuration(database: database), backgroundLogger: Logger(label: "postgres-fixture"))
        // Started at once, up to its first suspension: the pool runs before the first query.
        let runner = Task.immediate { await client.run() }
        defer { runner.cancel() }
        return try await body(client)
    }

    /// Creates an empty database of its own for one test and returns its name; drop it with
    /// `dropDatabase(_:)`.
    public static func makeDatabase() async throws -> String {
        let name = "cobro_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "_"))"
        try await withClient { client in
            // A database name cannot be a bound parameter; this one is made of [a-z0-9_] only.
            _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        return name
    }

    public static func dropDatabase(_ name: String) async {
        _ = try? await withClient { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        }
    }
}

extension Tag {
    /// Tests that need the PostgreSQL server; the `.needsPostgres` condition beside it skips them.
    @Tag public static var postgres: Self
}

extension Trait where Self == ConditionTrait {
    /// For a suite or test that talks to PostgreSQL: runs when a server answers at
    /// `POSTGRES_URL`, and is skipped with the reason when none does. `scripts/test` sets
    /// `COBRO_REQUIRE_POSTGRES=1`: there a missing server fails the tests, never skips them.
    public static var needsPostgres: Self {
        .enabled(
            if: PostgresFixture.isRequired || PostgresFixture.isReachable,
            "needs PostgreSQL at POSTGRES_URL: start one with scripts/postgres start, or run scripts/test"
        )
    }
}
