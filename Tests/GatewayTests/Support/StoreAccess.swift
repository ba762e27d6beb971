import CobroTestSupport
import Foundation
import GRDB
import PaymentsCore
import PostgresNIO
import PostgresSupport
import Testing

@testable import Gateway

/// What the tests read and write behind the store's operations, on either engine: rows to look
/// at, and rows set up as a test needs them. Statements here are plain SQL both engines take.
extension GatewayStore {
    /// Opens (and migrates) the store at `location` with a small pool: every suite runs at once
    /// against one test server.
    static func openForTest(_ location: DatabaseLocation) async throws -> GatewayStore {
        try await open(location, maximumConnections: 4)
    }

    private var sqlite: DatabasePool? { (engine as? SQLiteGatewayStore)?.pool }

    /// The SQLite engine's pool, for tests of SQLite itself (its migrations, its pragmas).
    var sqlitePool: DatabasePool {
        get throws { try #require((engine as? SQLiteGatewayStore)?.pool, "the store is not an SQLite file") }
    }
    private var postgres: PostgresClient? { (engine as? PostgresGatewayStore)?.database.client }

    /// Runs one statement.
    func execute(_ sql: String) async throws {
        if let pool = sqlite {
            try await pool.write { db in try db.execute(sql: sql) }
        } else if let client = postgres {
            _ = try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }

    /// The first column of every row, as text (NULL as nil).
    func strings(_ sql: String) async throws -> [String?] {
        if let pool = sqlite {
            return try await pool.read { db in try Row.fetchAll(db, sql: sql).map { $0[0] as String? } }
        }
        var values: [String?] = []
        for try await value in try await postgres!.query(PostgresQuery(unsafeSQL: sql)).decode(String?.self) { values.append(value) }
        return values
    }

    /// The first column of the first row, as an integer (`SELECT COUNT(*) …`).
    func integer(_ sql: String) async throws -> Int {
        if let pool = sqlite {
            return try await pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        }
        var value: Int64 = 0
        for try await column in try await postgres!.query(PostgresQuery(unsafeSQL: sql)).decode(Int64.self) { value = column }
        return Int(value)
    }

    /// The first column of every row, as bytes.
    func blobs(_ sql: String) async throws -> [Data] {
        if let pool = sqlite {
            return try await pool.read { db in try Data.fetchAll(db, sql: sql) }
        }
        var values: [Data] = []
        for try await value in try await postgres!.query(PostgresQuery(unsafeSQL: sql)).decode(Data.self) { values.append(value) }
        return values
    }

    func checkoutRow(_ id: String) async throws -> CheckoutRecord? {
        try await record("SELECT * FROM checkout WHERE id = '\(id)'") { try CheckoutRecord(columns: $0) }
    }

    func orderRow(storefront: String = "shop", _ id: String) async throws -> OrderRecord? {
        try await record(#"SELECT * FROM "order" WHERE storefront = '\#(storefront)' AND id = '\#(id)'"#) { try OrderRecord(columns: $0) }
    }

    func inboxRow(_ id: String) async throws -> InboxRecord? {
        try await record("SELECT * FROM inbox WHERE id = '\(id)'") { try InboxRecord(columns: $0) }
    }

    private func record<Record: Sendable>(
        _ sql: String, _ make: @escaping @Sendable (any RecordColumns) throws -> Record
    ) async throws -> Record? {
        if let pool = sqlite {
            return try await pool.read { db in try Row.fetchOne(db, sql: sql).map { try make($0) } }
        }
        for try await row in try await postgres!.query(PostgresQuery(unsafeSQL: sql)) {
            return try make(row.makeRandomAccess())
        }
        return nil
    }

    /// Writes `envelopes` to the outbox in one transaction, as the gateway does.
    func enqueue(_ envelopes: [EventEnvelope]) async throws {
        if let pool = sqlite {
            try await pool.write { db in
                for envelope in envelopes { try OutboxRecord.enqueue(envelope, in: db) }
            }
            return
        }
        let rows = try envelopes.map(OutboxRecord.init(envelope:))
        let engine = try #require(engine as? PostgresGatewayStore)
        try await engine.transaction("enqueue test events") { connection in
            for row in rows { try await PostgresGatewayStore.enqueue(row, on: connection, logger: engine.logger) }
        }
    }

    /// Stores `order` (unless the storefront has it) and `checkout` as a recorded checkout would.
    func insert(order: OrderRecord, checkout: CheckoutRecord) async throws {
        if let pool = sqlite {
            try await pool.write { db in
                if try OrderRecord.find(storefront: order.storefront, id: order.id, in: db) == nil { try order.insert(db) }
                try checkout.insert(db)
            }
            return
        }
        let client = postgres!
        _ = try await client.query(
            """
            INSERT INTO "order" (storefront, id, amount, currency, language, customer, line_items, status, created_at, updated_at)
            VALUES (\(order.storefront), \(order.id), \(order.amount), \(order.currency.rawValue), \(order.language.rawValue),
              \(try RowJSON.text(order.customer)), \(try RowJSON.text(order.lineItems)), \(order.status.rawValue), \(order.createdAt),
              \(order.updatedAt))
            ON CONFLICT DO NOTHING
            """)
        _ = try await client.query(
            """
            INSERT INTO checkout (id, storefront, order_id, attempt, ui, status, mode, provider_id, payment_intent_id, success_url,
              cancel_url, metadata, expires_at, created_at, updated_at)
            VALUES (\(checkout.id), \(checkout.storefront), \(checkout.orderID), \(Int64(checkout.attempt)), \(checkout.ui.rawValue),
              \(checkout.status.rawValue), \(checkout.mode), \(checkout.providerID), \(checkout.paymentIntentID), \(checkout.successURL),
              \(checkout.cancelURL), \(try RowJSON.text(checkout.metadata)), \(checkout.expiresAt), \(checkout.createdAt),
              \(checkout.updatedAt))
            """)
    }
}

extension GatewayFixture {
    /// Where a test's gateway store lives on `engine`, as `GATEWAY_DATABASE_URL` says it: a new
    /// SQLite file in a folder of its own, or a new database on the test server.
    static func databaseSetting(_ engine: StoreEngine) async throws -> String {
        switch engine {
        case .sqlite:
            return FileManager.default.temporaryDirectory.appendingPathComponent("cobro-gateway-tests-\(UUID().uuidString)/gateway.sqlite")
                .path
        case .postgres:
            return try await PostgresFixture.makeDatabaseURL().url
        }
    }

    static func location(_ engine: StoreEngine) async throws -> DatabaseLocation {
        try DatabaseLocation(parsing: try await databaseSetting(engine))
    }

    /// `configuration(…)` with its store on `engine`.
    static func configuration(
        engine: StoreEngine, fintocURL: String = "http://127.0.0.1:9", file: String = #fileID, line: Int = #line
    ) async throws -> GatewayConfiguration {
        var configuration = configuration(fintocURL: fintocURL, file: file, line: line)
        configuration.database = try await location(engine)
        return configuration
    }
}

extension GatewayConfiguration {
    /// The SQLite file of a configuration on SQLite (for tests that hand it to an executable).
    var sqlitePath: String {
        guard case .sqlite(let path) = database else { preconditionFailure("the store is not an SQLite file") }
        return path
    }

    /// The store this configuration names, opened (and migrated) as the gateway opens it.
    func openStore() async throws -> GatewayStore {
        try await GatewayStore.openForTest(database)
    }
}
