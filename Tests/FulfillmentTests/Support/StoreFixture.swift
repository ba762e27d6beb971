import CobroTestSupport
import Foundation
import PostgresSupport

@testable import Fulfillment

/// A worker store of its own on `engine` (an SQLite file in a fresh folder, or a fresh
/// PostgreSQL database), for store-level tests; `remove()` deletes it.
struct StoreFixture {
    let store: FulfillmentStore
    private let directory: URL
    private let postgresDatabase: String?

    static func open(_ engine: StoreEngine) async throws -> StoreFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-store-\(UUID().uuidString)")
        switch engine {
        case .sqlite:
            let store = try await FulfillmentStore.open(.sqlite(path: directory.appendingPathComponent("fulfillment.sqlite").path))
            return StoreFixture(store: store, directory: directory, postgresDatabase: nil)
        case .postgres:
            let (name, url) = try await PostgresFixture.makeDatabaseURL()
            let store = try await FulfillmentStore.open(try DatabaseLocation(parsing: url))
            return StoreFixture(store: store, directory: directory, postgresDatabase: name)
        }
    }

    func remove() async {
        try? FileManager.default.removeItem(at: directory)
        if let postgresDatabase { await PostgresFixture.dropDatabase(postgresDatabase) }
    }
}
