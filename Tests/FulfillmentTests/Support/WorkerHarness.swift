import AMQP
import CobroTestSupport
import Foundation
import GRDB
import Hummingbird
import Logging
import PaymentsCore
import PostgresNIO
import PostgresSupport
import ServiceLifecycle
import Testing

@testable import Fulfillment

/// A worker running in the test process against its own virtual host on the test broker, a
/// real database (an SQLite file in a fresh folder, or a fresh PostgreSQL database) and (unless
/// SMTP is given) `.eml` files in that folder, plus a publisher connection that plays the gateway.
final class WorkerHarness: Sendable {
    let directory: URL
    let engine: StoreEngine
    /// The PostgreSQL database made for this harness, dropped by `stop()`.
    let postgresDatabase: String?
    let amqpURL: String
    let publisher: AMQPConnection
    let configuration: WorkerConfiguration
    private let instances: [Instance]

    private struct Instance: Sendable {
        let worker: Worker
        let group: ServiceGroup
        let task: Task<Void, any Error>
    }

    var worker: Worker { instances[0].worker }
    var store: FulfillmentStore { worker.store }
    var mailDirectory: URL { URL(fileURLWithPath: configuration.mailDirectory) }

    /// Starts `count` workers on the same database and queue (two make concurrent writers).
    static func start(
        engine: StoreEngine = .sqlite, count: Int = 1, prefetch: Int = 64, smtp: SMTPSettings? = nil, inventory: [InventoryRow] = [],
        configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) async throws -> WorkerHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let amqpURL = try await BrokerFixture.virtualHost()
        var configuration = WorkerConfiguration()
        configuration.port = 0
        var postgresDatabase: String?
        switch engine {
        case .sqlite:
            configuration.database = .sqlite(path: directory.appendingPathComponent("fulfillment.sqlite").path)
        case .postgres:
            let (name, url) = try await PostgresFixture.makeDatabaseURL()
            postgresDatabase = name
            configuration.database = try DatabaseLocation(parsing: url)
        }
        configuration.amqpURL = amqpURL
        configuration.prefetch = prefetch
        configuration.smtp = smtp
        configuration.mailDirectory = directory.appendingPathComponent("mail").path
        configuration.mailRetryInitialDelay = .milliseconds(200)
        configuration.mailRetryMaxDelay = .seconds(1)
        configure(&configuration)
        if !inventory.isEmpty {
            try await FulfillmentStore.open(configuration.database).importInventory(inventory)
        }
        let publisher = try await AMQPConnection.connect(Worker.amqpConfiguration(url: amqpURL, connectionName: "test-gateway"))
        var instances: [Instance] = []
        for index in 0..<count {
            var logger = Logger(label: "worker-test-\(index)")
            logger.logLevel = .warning
            let worker = try await Worker(configuration: configuration, logger: logger)
            let app = buildApplication(worker: worker, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
            let task = Task { try await group.run() }
            instances.append(Instance(worker: worker, group: group, task: task))
        }
        let harness = WorkerHarness(
            directory: directory, engine: engine, postgresDatabase: postgresDatabase, amqpURL: amqpURL, publisher: publisher,
            configuration: configuration, instances: instances)
        try await harness.waitUntil("the workers are connected") { instances.allSatisfy { $0.worker.isBrokerConnected } }
        return harness
    }

    private init(
        directory: URL, engine: StoreEngine, postgresDatabase: String?, amqpURL: String, publisher: AMQPConnection,
        configuration: WorkerConfiguration, instances: [Instance]
    ) {
        self.directory = directory
        self.engine = engine
        self.postgresDatabase = postgresDatabase
        self.amqpURL = amqpURL
        self.publisher = publisher
        self.configuration = configuration
        self.instances = instances
    }

    /// Publishes each event `times` times, as a gateway replaying it would; every publish must
    /// be confirmed and routed.
    func publish(_ events: [DomainEvent], times: Int = 1) async throws {
        let messages = try events.flatMap { event in try Array(repeating: Events.message(event), count: times) }
        let outcomes = await publisher.publish(messages)
        #expect(outcomes.allSatisfy { $0.isAcked }, "\(outcomes.filter { !$0.isAcked })")
    }

    func publish(_ event: DomainEvent, times: Int = 1) async throws {
        try await publish([event], times: times)
    }

    /// Waits (bounded) until `condition` holds; records a failure naming `what` if it never does.
    func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("timed out waiting until \(what)")
        throw TimedOut(what: what)
    }

    struct TimedOut: Error {
        let what: String
    }

    /// Waits until `count` messages were processed (their rows committed) in total.
    func waitForProcessed(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(count) messages are processed", timeout: timeout) { try await processedCount() >= count }
    }

    func processedCount() async throws -> Int {
        try await scalar("SELECT COUNT(*) FROM processed_message")
    }

    func stock(_ sku: String) async throws -> StockLevel? {
        try await store.stockLevels(sku: sku).first
    }

    /// The one integer (or boolean, as 0 or 1) `sql` selects, 0 when it selects no row, read
    /// straight from the engine's tables. `sql` has no parameters and is valid on both engines.
    func scalar(_ sql: String) async throws -> Int {
        switch store.engine {
        case let sqlite as SQLiteFulfillmentStore:
            return try await sqlite.pool.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        case let postgres as PostgresFulfillmentStore:
            let rows = try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT ((\(sql)))::int4"))
            for try await value in rows.decode(Int32?.self) { return Int(value ?? 0) }
            return 0
        default:
            throw UnknownEngine()
        }
    }

    private struct UnknownEngine: Error {}

    /// The SQLite engine's pool, for tests that read text columns (SQLite only).
    var sqlitePool: DatabasePool {
        get throws {
            guard let sqlite = store.engine as? SQLiteFulfillmentStore else { throw UnknownEngine() }
            return sqlite.pool
        }
    }

    /// The SQLite file's path (for tests that run the executable on the same file).
    var databasePath: String {
        if case .sqlite(let path) = configuration.database { return path }
        return ""
    }

    /// The `.eml` files written so far.
    func mailFiles() -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: mailDirectory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "eml" }.sorted { $0.path < $1.path }
    }

    /// The value of one sample of the worker's metrics, e.g. `worker_retries_total`.
    func metric(_ sample: String) -> Double? {
        for line in worker.metrics.exposition().split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }

    func stop() async {
        for instance in instances { await instance.group.triggerGracefulShutdown() }
        for instance in instances { _ = await instance.task.result }
        await publisher.close()
        await BrokerFixture.deleteVirtualHost(of: amqpURL)
        try? FileManager.default.removeItem(at: directory)
        if let postgresDatabase { await PostgresFixture.dropDatabase(postgresDatabase) }
    }
}

/// The text of a message's base64 body, for assertions on what the customer reads.
func mailBody(_ message: String) -> String {
    let parts = message.components(separatedBy: "\r\n\r\n")
    guard parts.count >= 2 else { return "" }
    let encoded = parts.dropFirst().joined(separator: "\r\n\r\n").replacingOccurrences(of: "\r\n", with: "")
    return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
}

/// A header's value (first occurrence), unfolded.
func mailHeader(_ name: String, in message: String) -> String? {
    let head = message.components(separatedBy: "\r\n\r\n").first ?? ""
    let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ")
    for line in unfolded.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
        return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
    }
    return nil
}
