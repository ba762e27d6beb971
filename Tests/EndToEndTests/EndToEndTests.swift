import CobroTestSupport
import Foundation
import Testing

/// The product end to end, on the real processes: a storefront starts checkouts, the customer
/// pays (or not) at the sandbox, Fintoc's webhooks reach the gateway, the events reach the
/// worker, stock and emails follow.
@Suite("End to end: payment paths", .needsBroker, .tags(.broker), .serialized)
struct PaymentPathTests {
    @Test("each ui paid: one payment.succeeded, stock taken once, one confirmation email")
    func eachUIPaid() async throws {
        let initial = ["TEE": 20, "MUG": 20]
        try await EndToEndStack.run(inventory: initial) { stack in
            var paid: [EndToEndStack.Order] = []
            for ui in ["redirect", "widget", "payment_intent"] {
                let order = try await stack.checkout("e2e-paid-\(ui)", ui: ui, lines: ["TEE": 2, "MUG": 1])
                try await stack.complete(order, "succeeded")
                paid.append(order)
            }
            try await stack.expectInvariants(paid: paid, initial: initial)
            let state = try stack.workerState()
            #expect(state.onHand == ["TEE": 14, "MUG": 17])
            #expect(state.processed["e2e-paid-redirect"] == ["checkout.created", "payment.succeeded"])
        }
    }

    @Test("failure paths: failed, rejected, expired by the storefront, expired at Fintoc, pending then paid, and out of stock")
    func failurePaths() async throws {
        let initial = ["TEE": 10, "LTD": 1]
        try await EndToEndStack.run(inventory: initial) { stack in
            let failed = try await stack.checkout("e2e-failed", lines: ["TEE": 1])
            try await stack.complete(failed, "failed")
            let rejected = try await stack.checkout("e2e-rejected", ui: "widget", lines: ["TEE": 1])
            try await stack.complete(rejected, "rejected")
            let expired = try await stack.checkout("e2e-expired", ui: "redirect", lines: ["TEE": 3])
            try await stack.expire(expired)
            let lapsed = try await stack.checkout("e2e-lapsed", ui: "redirect", lines: ["TEE": 2])
            try await stack.complete(lapsed, "expired")
            let pending = try await stack.checkout("e2e-pending", ui: "redirect", lines: ["TEE": 2])
            try await stack.complete(pending, "pending")
            #expect(
                try await stack.eventually(.seconds(30)) {
                    try stack.workerState().processed["e2e-pending"]?.contains("payment.pending") == true
                })
            try await stack.complete(pending, "succeeded")
            let scarce = try await stack.checkout("e2e-scarce", lines: ["LTD": 3])
            try await stack.complete(scarce, "succeeded")

            try await stack.expectInvariants(paid: [pending, scarce], unpaid: [failed, expired, lapsed], initial: initial)
            let state = try stack.workerState()
            #expect(state.sales["e2e-scarce"] == "backordered")
            #expect(state.onHand == ["TEE": 8, "LTD": 1], "only the pending-then-paid order took stock")
            #expect(stack.emails(for: "e2e-failed") == ["payment_failed"])
            #expect(stack.emails(for: "e2e-rejected") == ["payment_failed"])
            #expect(stack.emails(for: "e2e-expired").isEmpty)
            #expect(stack.emails(for: "e2e-pending") == ["order_confirmed", "payment_awaiting"])
            #expect(stack.emails(for: "e2e-scarce") == ["order_backordered"])
            #expect(state.processed["e2e-lapsed"]?.contains("checkout.expired") == true)
        }
    }
}

@Suite("End to end: fault drills", .needsBroker, .tags(.broker), .serialized)
struct FaultDrillTests {
    static let initial = ["TEE": 500, "MUG": 500]

    /// Makes `count` checkouts and pays each at the sandbox, `concurrency` at a time.
    static func burst(
        _ stack: EndToEndStack, prefix: String, count: Int, concurrency: Int = 8, during: (@Sendable () async throws -> Void)? = nil
    ) async throws -> [EndToEndStack.Order] {
        let orders = try await withThrowingTaskGroup(of: EndToEndStack.Order.self) { group in
            var made: [EndToEndStack.Order] = []
            var next = 0
            func add() {
                guard next < count else { return }
                let index = next
                next += 1
                group.addTask {
                    let order = try await stack.checkout(
                        "\(prefix)-\(index)", ui: ["redirect", "widget", "payment_intent"][index % 3],
                        lines: ["TEE": 1 + index % 2, "MUG": 1])
                    try await stack.complete(order, "succeeded")
                    return order
                }
            }
            for _ in 0..<concurrency { add() }
            if let during {
                group.addTask {
                    try await during()
                    return EndToEndStack.Order(id: "", checkoutID: "", providerID: "", lines: [:])
                }
            }
            while let order = try await group.next() {
                if !order.id.isEmpty { made.append(order) }
                add()
            }
            return made
        }
        return orders.sorted { $0.id < $1.id }
    }

    @Test("webhooks duplicated three times and shuffled by the sandbox: each paid order once")
    func duplicatedAndShuffled() async throws {
        try await EndToEndStack.run(inventory: Self.initial) { stack in
            try await stack.setFaults(["duplicate": 3, "shuffle": true])
            let orders = try await Self.burst(stack, prefix: "e2e-dup", count: 24)
            try await stack.expectInvariants(paid: orders, initial: Self.initial)
        }
    }

    @Test("the worker killed with SIGKILL three times during a burst: no stock change lost or doubled")
    func workerKilledRepeatedly() async throws {
        try await EndToEndStack.run(inventory: Self.initial) { stack in
            let orders = try await Self.burst(stack, prefix: "e2e-wkill", count: 45) {
                for _ in 0..<3 {
                    try await Task.sleep(for: .milliseconds(700))
                    try await stack.stop("fulfillment-worker", signal: SIGKILL)
                    try await Task.sleep(for: .milliseconds(300))
                    try await stack.startWorker()
                }
            }
            try await stack.expectInvariants(paid: orders, initial: Self.initial)
        }
    }

    @Test("the gateway killed with SIGKILL during a burst while the sandbox keeps retrying its webhooks")
    func gatewayKilledDuringBurst() async throws {
        try await EndToEndStack.run(inventory: Self.initial) { stack in
            var orders: [EndToEndStack.Order] = []
            for index in 0..<30 {
                orders.append(
                    try await stack.checkout(
                        "e2e-gkill-\(index)", ui: ["redirect", "widget", "payment_intent"][index % 3], lines: ["TEE": 1, "MUG": 1]))
            }
            let all = orders
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for order in all { try await stack.complete(order, "succeeded") }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(150))
                    try await stack.stop("payments-gateway", signal: SIGKILL)
                    // Webhooks fail (connection refused) while it is down; the sandbox retries.
                    try await Task.sleep(for: .seconds(2))
                    try await stack.startGateway()
                }
                try await group.waitForAll()
            }
            try await stack.expectInvariants(paid: orders, initial: Self.initial)
            let attempts = try await stack.deliveryAttempts()
            #expect(attempts.failed > 0, "some deliveries failed while the gateway was down, and were retried")
        }
    }

    @Test("SMTP down while orders are paid, then up: each email arrives once")
    func smtpDownThenUp() async throws {
        let smtpPort = try TestPorts.reserve()
        try await EndToEndStack.run(inventory: Self.initial, smtpURL: "smtp://127.0.0.1:\(smtpPort)") { stack in
            let orders = try await Self.burst(stack, prefix: "e2e-smtp", count: 6)
            #expect(try await stack.eventually(.seconds(30)) { orders.allSatisfy { (try? stack.workerState().sales[$0.id]) != nil } })
            try await Task.sleep(for: .seconds(1))
            #expect(try stack.workerState().unsentEmails == 6, "emails wait while the server is down")
            let server = try await SMTPServer(port: smtpPort)
            defer { server.stop() }
            try await stack.expectInvariants(paid: orders, initial: Self.initial, smtp: server)
            #expect(server.messages().count == 6)
        }
    }
}

@Suite("End to end: the broker restarted mid-burst (OutageTests)", .needsBroker, .tags(.broker), .serialized)
struct EndToEndOutageTests {
    @Test("RabbitMQ stopped and started while orders are paid: every paid order fulfilled once")
    func brokerRestartedMidBurst() async throws {
        try await EndToEndStack.run(inventory: FaultDrillTests.initial) { stack in
            let orders = try await FaultDrillTests.burst(stack, prefix: "e2e-broker", count: 30) {
                try await Task.sleep(for: .milliseconds(500))
                try await BrokerFixture.brokerScript("stop")
                try await Task.sleep(for: .seconds(2))
                try await BrokerFixture.brokerScript("start")
            }
            try await stack.expectInvariants(paid: orders, initial: FaultDrillTests.initial)
        }
    }
}
