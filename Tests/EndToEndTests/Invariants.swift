import AsyncHTTPClient
import CobroTestSupport
import Foundation
import GRDB
import Testing

/// What the product promises after any drill, read from the SQLite files, the mail folder and
/// the broker as they are.
extension EndToEndStack {
    struct WorkerState {
        /// Order → the event types the worker applied (each message id once by construction).
        var processed: [String: [String]] = [:]
        var sales: [String: String] = [:]
        var onHand: [String: Int] = [:]
        var held: [String: Int] = [:]
        /// Units taken by confirmed sales, per sku.
        var sold: [String: Int] = [:]
        var unsentEmails = 0
        var unpublishedEvents = 0
        /// Orders that still hold stock.
        var holding: Set<String> = []
    }

    func workerState() throws -> WorkerState {
        let queue = try DatabaseQueue(path: workerDatabase)
        defer { try? queue.close() }
        return try queue.read { db in
            var state = WorkerState()
            for row in try Row.fetchAll(db, sql: "SELECT order_id, type FROM processed_message ORDER BY processed_at") {
                state.processed[row[0], default: []].append(row[1])
            }
            for row in try Row.fetchAll(db, sql: "SELECT order_id, status FROM sale") { state.sales[row[0]] = row[1] }
            for row in try Row.fetchAll(db, sql: "SELECT sku, on_hand FROM product") { state.onHand[row[0]] = row[1] }
            for row in try Row.fetchAll(db, sql: "SELECT sku, SUM(quantity) FROM hold GROUP BY sku") { state.held[row[0]] = row[1] }
            state.holding = Set(try String.fetchAll(db, sql: "SELECT DISTINCT order_id FROM hold"))
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT sale_line.sku, SUM(sale_line.quantity) FROM sale_line JOIN sale ON sale.storefront = sale_line.storefront AND sale.order_id = sale_line.order_id
                    WHERE sale.status = 'confirmed' GROUP BY sale_line.sku
                    """)
            { state.sold[row[0]] = row[1] }
            state.unsentEmails =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notification WHERE sent_at IS NULL AND failed_at IS NULL") ?? 0
            state.unpublishedEvents = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event_outbox WHERE published_at IS NULL") ?? 0
            return state
        }
    }

    func gatewayOutboxDepth() throws -> Int {
        let queue = try DatabaseQueue(path: gatewayDatabase)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") ?? 0 }
    }

    /// Emails written for `order`, by kind (`order_confirmed`, …): `.eml` files named after their
    /// stable Message-ID, or messages an SMTP server received.
    func emails(for order: String, smtp: SMTPServer? = nil) -> [String] {
        Self.emails(for: order, smtp: smtp, in: mailDirectory)
    }

    static func emails(for order: String, smtp: SMTPServer? = nil, in mailDirectory: URL) -> [String] {
        // Message-IDs are <storefront+order.kind@domain>.
        let local = "\(EndToEndStack.storefrontName)+\(order)."
        if let smtp {
            return smtp.messages().compactMap { message -> String? in
                guard let line = message.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("message-id:") }),
                    line.contains("<\(local)")
                else { return nil }
                return line.split(separator: "<\(local)").last.map { String($0.prefix { $0 != "@" }) }
            }.sorted()
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: mailDirectory.path)) ?? []
        return files.filter { $0.hasPrefix(local) && $0.hasSuffix(".eml") }
            .map { String($0.dropFirst(local.count).prefix { $0 != "@" }) }.sorted()
    }

    /// Messages parked in the dead-letter queue (management API).
    func parkedCount() async throws -> Int {
        try await Self.parkedCount(amqpURL: amqpURL)
    }

    static func parkedCount(amqpURL: String) async throws -> Int {
        let vhost = String(amqpURL.split(separator: "/").last ?? "%2F")
        let text = try await BrokerFixture.management("GET", "api/queues/\(vhost)/fulfillment.payments.dlq", body: nil)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        return (json?["messages"] as? Int) ?? 0
    }

    /// Polls `condition` every 200 ms for up to `timeout`.
    func eventually(_ timeout: Duration = .seconds(90), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try condition()
    }

    /// The drill's promises: every paid order has exactly one `payment.succeeded` applied, its
    /// stock taken once (or a backorder), one confirmation email; no stock below zero; stock on
    /// hand equals the initial stock minus what confirmed sales took; every hold of an ended
    /// checkout released; nothing left in either outbox; nothing parked.
    func expectInvariants(
        paid: [Order], unpaid: [Order] = [], initial: [String: Int], smtp: SMTPServer? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let settled = try await eventually {
            let state = try workerState()
            let depth = try gatewayOutboxDepth()
            return paid.allSatisfy {
                state.sales[$0.id] != nil && emails(for: $0.id, smtp: smtp).contains(where: { $0.hasPrefix("order_") })
            }
                && state.unsentEmails == 0 && state.unpublishedEvents == 0 && depth == 0
        }
        #expect(settled, "the stack settled within 90 s", sourceLocation: sourceLocation)
        let state = try workerState()
        for order in paid {
            #expect(
                state.processed[order.id, default: []].filter { $0 == "payment.succeeded" }.count == 1,
                "\(order.id): one payment.succeeded applied", sourceLocation: sourceLocation)
            #expect(state.sales[order.id] != nil, "\(order.id): sold or backordered", sourceLocation: sourceLocation)
            let confirmations = emails(for: order.id, smtp: smtp).filter { $0 == "order_confirmed" || $0 == "order_backordered" }
            #expect(confirmations.count == 1, "\(order.id): one confirmation email, got \(confirmations)", sourceLocation: sourceLocation)
        }
        for order in unpaid {
            #expect(state.sales[order.id] == nil, "\(order.id): not paid, not sold", sourceLocation: sourceLocation)
        }
        for (sku, units) in initial {
            let onHand = state.onHand[sku] ?? -1
            #expect(onHand >= 0, "\(sku): stock never below zero", sourceLocation: sourceLocation)
            #expect(
                onHand == units - state.sold[sku, default: 0], "\(sku): \(units) − sold \(state.sold[sku, default: 0]) = \(onHand)",
                sourceLocation: sourceLocation)
        }
        let stillHolding = (paid + unpaid).map(\.id).filter { state.holding.contains($0) }
        #expect(stillHolding.isEmpty, "holds of ended checkouts released: \(stillHolding)", sourceLocation: sourceLocation)
        #expect(try gatewayOutboxDepth() == 0, "gateway outbox empty", sourceLocation: sourceLocation)
        #expect(state.unpublishedEvents == 0 && state.unsentEmails == 0, "worker outboxes empty", sourceLocation: sourceLocation)
        #expect(try await parkedCount() == 0, "nothing parked", sourceLocation: sourceLocation)
    }
}
