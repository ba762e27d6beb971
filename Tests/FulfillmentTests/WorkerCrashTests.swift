import AMQP
import CobroTestSupport
import Foundation
import GRDB
import PaymentsCore
import Testing

@testable import Fulfillment

#if canImport(Glibc)
import Glibc
#endif

/// The `fulfillment-worker` process killed with SIGKILL in the middle of a stream of messages
/// and started again: every stock change happens exactly once.
@Suite("Worker crash", .needsBroker, .tags(.broker))
struct WorkerCrashTests {
    @Test("SIGKILL mid-batch, then a restart: no stock change lost or doubled; SIGTERM then stops it cleanly")
    func killedMidBatch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-crash-\(UUID().uuidString)")
        let amqpURL = try await BrokerFixture.virtualHost()
        defer {
            Task {
                await BrokerFixture.deleteVirtualHost(of: amqpURL)
                try? FileManager.default.removeItem(at: directory)
            }
        }
        let databasePath = directory.appendingPathComponent("fulfillment.sqlite").path
        let database = try SQLiteFulfillmentStore(path: databasePath)
        let skus = (0..<20).map { "SKU-\($0)" }
        try await database.importInventory(skus.map { InventoryRow(sku: $0, name: $0, onHand: 10_000) }, at: Date())

        // 1,000 orders paid and 500 failed, each checkout created first: 3,000 messages, all
        // waiting in the queue before the worker starts.
        let publisher = try await AMQPConnection.connect(Worker.amqpConfiguration(url: amqpURL, connectionName: "test-gateway"))
        var events: [DomainEvent] = []
        for index in 0..<1500 {
            let order = Events.order("crash-\(index)", lines: [(skus[index % 20], 1)])
            events.append(Events.created(order))
            events.append(index < 1000 ? Events.succeeded(order) : Events.failed(order))
        }
        let outcomes = await publisher.publish(try events.map(Events.message))
        #expect(outcomes.allSatisfy { $0.isAcked })
        await publisher.close()

        let environment = [
            "AMQP_URL": amqpURL, "WORKER_DATABASE": databasePath, "WORKER_PORT": "0",
            "MAIL_DIR": directory.appendingPathComponent("mail").path, "LOG_LEVEL": "warning",
            // Small batches: more commits, so the kill lands mid-stream even when this test process
            // polls late on a busy machine.
            "WORKER_PREFETCH": "16",
        ]
        func processed() async throws -> Int {
            try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM processed_message") ?? 0 }
        }

        var processedAtKill = 0
        let killed = try await ExecutableRunner.run("fulfillment-worker", ["serve"], environment: environment, timeout: .seconds(60)) {
            process in
            let deadline = ContinuousClock.now + .seconds(60)
            while try await processed() < 300, ContinuousClock.now < deadline, process.isRunning {
                try await Task.sleep(for: .milliseconds(5))
            }
            process.signal(SIGKILL)
            process.waitUntilExit()
            processedAtKill = try await processed()
        }
        #expect(killed.status == SIGKILL || killed.status == 9, "\(killed.output)")
        #expect(processedAtKill >= 300 && processedAtKill < 3000, "killed mid-stream, after \(processedAtKill)")

        let restarted = try await ExecutableRunner.run("fulfillment-worker", ["serve"], environment: environment, timeout: .seconds(90)) {
            process in
            let deadline = ContinuousClock.now + .seconds(80)
            while try await processed() < 3000, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            process.signal(SIGTERM)
        }
        #expect(restarted.status == 0 && !restarted.timedOut, "SIGTERM stops it gracefully: \(restarted.output)")
        #expect(try await processed() == 3000)

        let (onHand, held, sales, emails) = try await database.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT SUM(on_hand) FROM product") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hold") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sale WHERE status = 'confirmed'") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notification") ?? 0
            )
        }
        #expect(onHand == 20 * 10_000 - 1000, "every paid order took exactly one unit")
        #expect(held == 0 && sales == 1000 && emails == 1500)
        for (index, sku) in skus.enumerated() {
            #expect(try await database.stockLevels(sku: sku, at: Date()).first?.onHand == 10_000 - 50, "\(sku) \(index)")
        }
    }
}
