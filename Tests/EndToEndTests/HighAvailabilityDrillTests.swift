import CobroTestSupport
import Foundation
import PostgresNIO
import Testing

/// What the product promises with several replicas, read from both PostgreSQL databases, the
/// mail folder and the broker as they are.
extension HAStack {
    struct WorkerState: Sendable {
        /// Order → the event types the workers applied (each message id once by construction).
        var processed: [String: [String]] = [:]
        var sales: [String: String] = [:]
        var onHand: [String: Int] = [:]
        /// Units taken by confirmed sales, per sku.
        var sold: [String: Int] = [:]
        /// Orders that still hold stock.
        var holding: Set<String> = []
        /// Order → the kinds of its email rows.
        var emailRows: [String: [String]] = [:]
        var unsentEmails = 0
        var unpublishedEvents = 0
    }

    func workerState() async throws -> WorkerState {
        try await PostgresFixture.withClient(database: workerDatabase.name) { client in
            var state = WorkerState()
            for try await (order, type) in try await client.query("SELECT order_id, type FROM processed_message").decode(
                (String, String).self)
            {
                state.processed[order, default: []].append(type)
            }
            for try await (order, status) in try await client.query("SELECT order_id, status FROM sale").decode((String, String).self) {
                state.sales[order] = status
            }
            for try await (sku, units) in try await client.query("SELECT sku, on_hand FROM product").decode((String, Int64).self) {
                state.onHand[sku] = Int(units)
            }
            for try await (sku, units) in try await client.query(
                """
                SELECT sale_line.sku, SUM(sale_line.quantity)::bigint FROM sale_line
                JOIN sale ON sale.storefront = sale_line.storefront AND sale.order_id = sale_line.order_id
                WHERE sale.status = 'confirmed' GROUP BY sale_line.sku
                """
            ).decode((String, Int64).self) {
                state.sold[sku] = Int(units)
            }
            for try await order in try await client.query("SELECT DISTINCT order_id FROM hold").decode(String.self) {
                state.holding.insert(order)
            }
            for try await (order, kind) in try await client.query("SELECT order_id, kind FROM notification").decode((String, String).self) {
                state.emailRows[order, default: []].append(kind)
            }
            for try await count in try await client.query(
                "SELECT COUNT(*) FROM notification WHERE sent_at IS NULL AND failed_at IS NULL"
            ).decode(Int64.self) {
                state.unsentEmails = Int(count)
            }
            for try await count in try await client.query("SELECT COUNT(*) FROM event_outbox WHERE published_at IS NULL").decode(
                Int64.self)
            {
                state.unpublishedEvents = Int(count)
            }
            return state
        }
    }

    func gatewayOutboxDepth() async throws -> Int {
        try await PostgresFixture.withClient(database: gatewayDatabase.name) { client in
            var depth = 0
            for try await count in try await client.query("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL").decode(Int64.self) {
                depth = Int(count)
            }
            return depth
        }
    }

    /// The drill's promises: every paid order has exactly one `payment.succeeded` applied and
    /// seen by the third-party queue, its stock taken once (or a backorder), one email row and one
    /// email per kind; stock on hand equals the initial stock minus what confirmed sales took;
    /// no hold left; every outbox empty; nothing parked.
    func expectInvariants(paid: [Order], initial: [String: Int], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(180)
        var settled = false
        while !settled, ContinuousClock.now < deadline {
            if let state = try? await workerState(), let depth = try? await gatewayOutboxDepth() {
                settled =
                    paid.allSatisfy { state.sales[$0.id] != nil } && state.unsentEmails == 0 && state.unpublishedEvents == 0 && depth == 0
                    && paid.allSatisfy { EndToEndStack.emails(for: $0.id, in: mailDirectory).contains { $0.hasPrefix("order_") } }
            }
            if !settled { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(settled, "the stack settled within 180 s", sourceLocation: sourceLocation)
        let state = try await workerState()
        // What the other team's queue received by now (it was bound before the first event).
        let seen = try await published.take(paid.count * 10, timeout: .seconds(5))
        var succeeded: [String: [String]] = [:]
        for delivery in seen where delivery.routingKey == "payment.succeeded" {
            guard let id = delivery.properties.messageID, let order = id.split(separator: "/").dropFirst().first else { continue }
            succeeded[String(order), default: []].append(id)
        }
        for order in paid {
            #expect(
                state.processed[order.id, default: []].filter { $0 == "payment.succeeded" }.count == 1,
                "\(order.id): one payment.succeeded applied", sourceLocation: sourceLocation)
            #expect(
                Set(succeeded[order.id, default: []]).count == 1, "\(order.id): one payment.succeeded published",
                sourceLocation: sourceLocation)
            #expect(state.sales[order.id] != nil, "\(order.id): sold or backordered", sourceLocation: sourceLocation)
            let kinds = state.emailRows[order.id, default: []]
            #expect(Set(kinds).count == kinds.count, "\(order.id): one email row per kind: \(kinds)", sourceLocation: sourceLocation)
            let confirmations = EndToEndStack.emails(for: order.id, in: mailDirectory).filter {
                $0 == "order_confirmed" || $0 == "order_backordered"
            }
            #expect(confirmations.count == 1, "\(order.id): one confirmation email, got \(confirmations)", sourceLocation: sourceLocation)
        }
        for (sku, units) in initial {
            let onHand = state.onHand[sku] ?? -1
            #expect(onHand >= 0, "\(sku): stock never below zero", sourceLocation: sourceLocation)
            #expect(
                onHand == units - state.sold[sku, default: 0], "\(sku): \(units) − sold \(state.sold[sku, default: 0]) = \(onHand)",
                sourceLocation: sourceLocation)
        }
        let stillHolding = paid.map(\.id).filter { state.holding.contains($0) }
        #expect(stillHolding.isEmpty, "holds of paid orders released: \(stillHolding.prefix(5))", sourceLocation: sourceLocation)
        #expect(try await gatewayOutboxDepth() == 0, "gateway outbox empty", sourceLocation: sourceLocation)
        #expect(state.unpublishedEvents == 0 && state.unsentEmails == 0, "worker outboxes empty", sourceLocation: sourceLocation)
        #expect(try await EndToEndStack.parkedCount(amqpURL: amqpURL) == 0, "nothing parked", sourceLocation: sourceLocation)
    }
}

@Suite(
    "End to end: two gateways and two workers on PostgreSQL", .needsBroker, .tags(.broker), .needsPostgres, .tags(.postgres),
    .serialized)
struct HighAvailabilityDrillTests {
    static let initial = ["TEE": 5000, "MUG": 5000]

    @Test("1,000 orders paid, each webhook delivered three times to gateways chosen at random: each order paid and fulfilled once")
    func twoOfEach() async throws {
        try await HAStack.run(inventory: Self.initial) { stack in
            let orders = try await stack.checkouts(prefix: "ha", count: 1000, lines: { ["TEE": 1 + $0 % 2, "MUG": 1] })
            try await stack.pay(orders)
            try await stack.expectInvariants(paid: orders, initial: Self.initial)
        }
    }

    @Test("the same with one gateway and one worker SIGKILLed mid-burst, then restarted")
    func replicasKilledMidBurst() async throws {
        try await HAStack.run(inventory: Self.initial) { stack in
            let orders = try await stack.checkouts(prefix: "ha-kill", count: 1000, lines: { ["TEE": 1 + $0 % 2, "MUG": 1] })
            try await stack.pay(orders) {
                try await Task.sleep(for: .seconds(1.5))
                try await stack.stop("gateway-0", signal: SIGKILL)
                try await stack.stop("worker-0", signal: SIGKILL)
                #expect(stack.paidSoFar < orders.count, "killed while payments were still being made")
                try await Task.sleep(for: .seconds(1))
                try await stack.startGateway(0)
                try await stack.startWorker(0)
            }
            try await stack.expectInvariants(paid: orders, initial: Self.initial)
        }
    }

    @Test("50 orders for the last 10 units, applied by two workers: exactly 10 sold and 40 backordered")
    func lastUnits() async throws {
        let initial = ["LAST": 10]
        try await HAStack.run(inventory: initial) { stack in
            let orders = try await stack.checkouts(prefix: "ha-last", count: 50, lines: { _ in ["LAST": 1] })
            try await stack.pay(orders)
            try await stack.expectInvariants(paid: orders, initial: initial)
            let state = try await stack.workerState()
            #expect(state.sales.values.filter { $0 == "confirmed" }.count == 10)
            #expect(state.sales.values.filter { $0 == "backordered" }.count == 40)
            #expect(state.onHand["LAST"] == 0)
        }
    }
}
