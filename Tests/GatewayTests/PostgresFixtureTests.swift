import CobroTestSupport
import PostgresNIO
import Testing

/// The test server the second store engine's suites will run on: a database of its own per
/// test, reachable through postgres-nio, gone after.
@Suite("PostgreSQL test server (scripts/postgres)", .needsPostgres, .tags(.postgres))
struct PostgresFixtureTests {
    @Test("a test's own database is created, written and read through postgres-nio, then dropped")
    func privateDatabase() async throws {
        let name = try await PostgresFixture.makeDatabase()
        let stored = try await PostgresFixture.withClient(database: name) { client in
            try await client.query("CREATE TABLE probe (id BIGINT PRIMARY KEY, note TEXT NOT NULL)")
            let note = "hola, ñandú"
            try await client.query("INSERT INTO probe (id, note) VALUES (\(1), \(note))")
            var notes: [String] = []
            for try await (id, text) in try await client.query("SELECT id, note FROM probe").decode((Int64, String).self) {
                notes.append("\(id): \(text)")
            }
            return notes
        }
        #expect(stored == ["1: hola, ñandú"])
        await PostgresFixture.dropDatabase(name)
        let remaining = try await PostgresFixture.withClient { client in
            var count = 0
            for try await (found) in try await client.query("SELECT count(*) FROM pg_database WHERE datname = \(name)").decode(Int64.self) {
                count = Int(found)
            }
            return count
        }
        #expect(remaining == 0)
    }
}
