import Foundation
import Fulfillment
import PostgresSupport
import ServiceRuntime
import Testing

/// WORKER_DATABASE_URL picks the engine; every unusable value is refused with its reason.
@Suite("Worker database configuration")
struct DatabaseConfigurationTests {
    static func database(_ values: [String: String]) throws(ConfigurationError) -> DatabaseLocation {
        try WorkerConfiguration.fromEnvironment(EnvironmentReader(values)).database
    }

    @Test("nothing set, a path or an sqlite: URL keep SQLite; a postgres:// URL selects PostgreSQL")
    func engines() throws {
        #expect(try Self.database([:]) == .sqlite(path: "./var/fulfillment.sqlite"))
        #expect(try Self.database(["WORKER_DATABASE": "/data/w.sqlite"]) == .sqlite(path: "/data/w.sqlite"))
        #expect(try Self.database(["WORKER_DATABASE_URL": "/data/w.sqlite"]) == .sqlite(path: "/data/w.sqlite"))
        #expect(try Self.database(["WORKER_DATABASE_URL": "sqlite:/data/w.sqlite"]) == .sqlite(path: "/data/w.sqlite"))
        let location = try Self.database([
            "WORKER_DATABASE_URL": "postgresql://worker:s%40cret@db.internal:6432/fulfillment?sslmode=require"
        ])
        guard case .postgres(let url) = location else {
            Issue.record("not PostgreSQL: \(location)")
            return
        }
        #expect(url.host == "db.internal" && url.port == 6432 && url.username == "worker" && url.database == "fulfillment")
        #expect(url.password == "s@cret" && url.tls == .require)
        #expect(location.description == "postgres://worker:***@db.internal:6432/fulfillment?sslmode=require")
        #expect(location.engine == "postgres")
    }

    @Test(
        "an unusable database URL is refused with the reason and never the password",
        arguments: [
            (["WORKER_DATABASE_URL": "mysql://w:hunter2@db/f"], "\"mysql://\" is not a database"),
            (["WORKER_DATABASE_URL": "postgres://w:hunter2@db:5432/"], "names no database"),
            (["WORKER_DATABASE_URL": "postgres://:hunter2@db:5432/f"], "names no user"),
            (["WORKER_DATABASE_URL": "postgres://w:hunter2@db/f?sslmode=maybe"], "sslmode must be one of disable, prefer, require"),
            (["WORKER_DATABASE_URL": "postgres://w:hunter2@db/f?pool=3"], "does not know the parameter \"pool\""),
            (["WORKER_DATABASE_URL": "postgres://w:hunter2@db/f", "WORKER_DATABASE": "/x.sqlite"], "set either WORKER_DATABASE_URL or"),
            (["WORKER_DATABASE_MAX_CONNECTIONS": "0"], "WORKER_DATABASE_MAX_CONNECTIONS: must be between 1 and 100"),
        ])
    func refused(values: [String: String], reason: String) throws {
        do {
            _ = try WorkerConfiguration.fromEnvironment(EnvironmentReader(values))
            Issue.record("accepted \(values)")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("hunter2"))
        }
    }
}
