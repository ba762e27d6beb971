import AMQP
import CobroTestSupport
import Foundation
import Logging
import PaymentsCore
import PostgresNIO
import Testing

@testable import Fulfillment

/// Poison messages are parked with their reason, listed and redriven with the commands an
/// operator uses.
@Suite("Dead letters", .needsBroker, .tags(.broker), .serialized)
struct DeadLetterTests {
    static func command(_ arguments: [String], _ harness: WorkerHarness) async throws -> ExecutableRunner.Run {
        try await ExecutableRunner.run(
            "fulfillment-worker", arguments,
            environment: [
                "AMQP_URL": harness.amqpURL, "WORKER_DATABASE": harness.databasePath,
            ])
    }

    @Test("a poison message is parked at once with the reason, listed, and redriven by id; a valid parked message is applied after redrive")
    func parkListRedrive() async throws {
        let harness = try await WorkerHarness.start(inventory: [InventoryRow(sku: "SKU-1", name: "Uno", onHand: 10)])
        defer { Task { await harness.stop() } }
        // Not an event at all, and an event of a schema version this worker does not read.
        let garbage = OutboundMessage(
            exchange: PaymentsTopology.paymentsExchange, routingKey: "payment.succeeded", body: Data("{not json".utf8),
            properties: BasicProperties(messageID: "garbage-1", type: "payment.succeeded"))
        var future = try Events.message(Events.succeeded(Events.order("poison-2", lines: [("SKU-1", 1)])))
        future.body = Data(
            String(decoding: future.body, as: UTF8.self).replacingOccurrences(
                of: "payment.succeeded.v2.json", with: "payment.succeeded.v3.json"
            ).utf8)
        #expect(await harness.publisher.publish([garbage, future]).allSatisfy { $0.isAcked })
        try await harness.waitUntil("both are parked") {
            try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 2
        }
        #expect(try await harness.processedCount() == 0)
        #expect(harness.metric("worker_parked_total") == 2)

        let listed = try await Self.command(["dlq", "list", "--json"], harness)
        #expect(listed.status == 0, "\(listed.output)")
        let parked = try JSONDecoder().decode([ParkedMessage].self, from: Data(listed.output.utf8))
        #expect(parked.count == 2)
        let first = try #require(parked.first { $0.id == "garbage-1" })
        #expect(
            first.reason.hasPrefix("invalid message: malformed event") && first.routingKey == "payment.succeeded" && first.parkedAt != nil)
        let second = try #require(parked.first { $0.id == "tienda/poison-2/payment.succeeded/1" })
        #expect(second.reason.contains("unsupported dataschema") && second.orderID == "poison-2" && second.storefront == "tienda")
        #expect(try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 2, "listing leaves them parked")

        // An operator's fix elsewhere is out of scope; a valid message parked by the broker
        // (say, after too many crashes) goes back and is applied.
        let valid = try Events.message(Events.succeeded(Events.order("parked-ok", lines: [("SKU-1", 3)])))
        var parkedCopy = valid
        parkedCopy.exchange = PaymentsTopology.deadLetterExchange
        #expect(await harness.publisher.publish(parkedCopy).isAcked)
        try await harness.waitUntil("three are parked") {
            try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 3
        }
        let redriven = try await Self.command(["dlq", "redrive", "--id", "tienda/parked-ok/payment.succeeded/1"], harness)
        #expect(redriven.status == 0 && redriven.output.contains("redriven 1 message"), "\(redriven.output)")
        try await harness.waitForProcessed(1)
        #expect(try await harness.stock("SKU-1")?.onHand == 7)
        #expect(try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 2)

        let missing = try await Self.command(["dlq", "redrive", "--id", "nope"], harness)
        #expect(missing.status == 1 && missing.output.contains("no parked message with id nope"))
        #expect(try await Self.command(["dlq", "redrive"], harness).status != 0, "--all or --id is required")

        // Redriving the poison sends it through the worker again, which parks it again.
        let all = try await Self.command(["dlq", "redrive", "--all"], harness)
        #expect(all.status == 0 && all.output.contains("redriven 2 messages"), "\(all.output)")
        try await harness.waitUntil("they are parked again") {
            harness.metric("worker_parked_total") == 4
        }
        try await harness.waitUntil("the queue holds them again") {
            try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 2
        }
    }

    @Test(
        "a transient database failure goes through the retry queue and is applied once the database is free",
        arguments: StoreEngine.available)
    func transientRetry(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: [InventoryRow(sku: "SKU-1", name: "Uno", onHand: 10)]) {
            configuration in
            configuration.databaseBusyTimeout = .milliseconds(200)
        }
        defer { Task { await harness.stop() } }
        // Another process holds the lock the worker needs for three seconds: SQLite's write
        // lock, or on PostgreSQL the product's row.
        let locked: Task<Void, any Error>
        switch engine {
        case .sqlite:
            let locker = try SQLiteFulfillmentStore(path: harness.databasePath)
            locked = Task {
                try await locker.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    Thread.sleep(forTimeInterval: 3)
                    try db.execute(sql: "COMMIT")
                }
            }
        case .postgres:
            let database = harness.postgresDatabase
            locked = Task {
                try await PostgresFixture.withClient(database: database) { client in
                    try await client.withTransaction(logger: Logger(label: "locker")) { connection in
                        _ = try await connection.query(
                            "SELECT sku FROM product WHERE sku = 'SKU-1' FOR UPDATE", logger: Logger(label: "locker"))
                        try await Task.sleep(for: .seconds(3))
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        try await harness.publish(Events.succeeded(Events.order("retry-1", lines: [("SKU-1", 1)])))
        try await harness.waitUntil("it is retried") { (harness.metric("worker_retries_total") ?? 0) >= 1 }
        try await locked.value
        try await harness.waitForProcessed(1, timeout: .seconds(30))
        #expect(try await harness.stock("SKU-1")?.onHand == 9)
        #expect(try await harness.publisher.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount == 0)
    }
}
