import AMQP
import CobroTestSupport
import Foundation
import Fulfillment
import PaymentsCore
import Testing

/// Each event type's effect on stock, emails and the worker's own events, against the test
/// broker and each store engine: a real SQLite file, and a real PostgreSQL database.
@Suite("Event effects", .needsBroker, .tags(.broker), .serialized)
struct EventEffectsTests {
    static let stock = [InventoryRow(sku: "TSHIRT-M", name: "Polera M", onHand: 10), InventoryRow(sku: "MUG-01", name: "Tazón", onHand: 5)]

    @Test(
        "checkout.created holds every line; payment.succeeded sells them, emails the confirmation and publishes order.confirmed",
        arguments: StoreEngine.available)
    func createdThenPaid(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let tap = DeliveryBuffer(
            try await harness.publisher.consume(
                queue: try await BrokerFixture.tap(harness.publisher, exchange: PaymentsTopology.fulfillmentEventsExchange)))
        defer { tap.stop() }
        let order = Events.order("ord-1", lines: [("TSHIRT-M", 2), ("MUG-01", 1), ("TSHIRT-M", 1)])

        try await harness.publish(Events.created(order))
        try await harness.waitForProcessed(1)
        let held = try #require(try await harness.stock("TSHIRT-M"))
        #expect(held.onHand == 10 && held.held == 3 && held.available == 7)
        #expect(try await harness.stock("MUG-01")?.held == 1)

        try await harness.publish(Events.succeeded(order))
        try await harness.waitForProcessed(2)
        #expect(try await harness.stock("TSHIRT-M").map { [$0.onHand, $0.held, $0.available] } == [7, 0, 7])
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held, $0.available] } == [4, 0, 4])
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE order_id = 'ord-1' AND status = 'confirmed'") == 1)

        let events = try await tap.take(1)
        let event = try FulfillmentEnvelope.decode(try #require(events.first).body)
        #expect(event.type == .orderConfirmed && event.id == "tienda/ord-1/order.confirmed/1" && event.subject == "ord-1")
        #expect(event.data.paymentID == "pi_ord-1" && event.data.shortfall.isEmpty && event.data.order == order)
        #expect(events.first?.properties.messageID == event.id)

        try await harness.waitUntil("the confirmation is written") { harness.mailFiles().count == 1 }
        let message = try String(contentsOf: try #require(harness.mailFiles().first), encoding: .utf8)
        #expect(mailHeader("Message-ID", in: message) == "<tienda+ord-1.order_confirmed@cobro.local>")
        #expect(mailHeader("To", in: message)?.hasSuffix("<cliente@example.cl>") == true)
        let body = mailBody(message)
        #expect(body.contains("confirmamos tu pedido ord-1"), "\(body)")
        #expect(body.contains("2 x Producto TSHIRT-M ($10.000 c/u): $20.000"), "\(body)")
        #expect(body.contains("Total: $40.000 CLP") && body.contains("Referencia de pago: pi_ord-1"), "\(body)")
    }

    @Test(
        "two storefronts' order 1001 are two orders: own holds, own sale, own email, own order.confirmed", arguments: StoreEngine.available)
    func storefrontsShareOrderIDs(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let tap = DeliveryBuffer(
            try await harness.publisher.consume(
                queue: try await BrokerFixture.tap(harness.publisher, exchange: PaymentsTopology.fulfillmentEventsExchange)))
        defer { tap.stop() }
        let mine = Events.order("1001", lines: [("MUG-01", 2)], email: "ana@example.cl")
        let theirs = Events.order("1001", lines: [("MUG-01", 3)], email: "bruno@example.cl", storefront: "otra-tienda")

        try await harness.publish([Events.created(mine), Events.created(theirs)])
        try await harness.waitForProcessed(2)
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held] } == [5, 5], "each order holds its own units")

        try await harness.publish([Events.succeeded(mine), Events.succeeded(theirs)])
        try await harness.waitForProcessed(4)
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held] } == [0, 0], "both sold, neither taken for the other's")
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE order_id = '1001' AND status = 'confirmed'") == 2)

        let events = try await tap.take(2).map { try FulfillmentEnvelope.decode($0.body) }
        #expect(Set(events.map(\.id)) == ["tienda/1001/order.confirmed/1", "otra-tienda/1001/order.confirmed/1"])
        #expect(Set(events.compactMap(\.data.order.storefront?.rawValue)) == ["tienda", "otra-tienda"])

        try await harness.waitUntil("both confirmations are written") { harness.mailFiles().count == 2 }
        let ids = try harness.mailFiles().map { mailHeader("Message-ID", in: try String(contentsOf: $0, encoding: .utf8)) }
        #expect(Set(ids) == ["<tienda+1001.order_confirmed@cobro.local>", "<otra-tienda+1001.order_confirmed@cobro.local>"])
    }

    @Test("a version 1 event, published before order ids had a storefront, is still applied", arguments: StoreEngine.available)
    func versionOneEvents(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-v1", lines: [("TSHIRT-M", 2)], storefront: nil)
        try await harness.publish([Events.created(order), Events.succeeded(order)])
        try await harness.waitForProcessed(2)
        #expect(try await harness.stock("TSHIRT-M").map { [$0.onHand, $0.held] } == [8, 0])
        #expect(
            try await harness.scalar("SELECT COUNT(*) FROM processed_message WHERE id = 'ord-v1/payment.succeeded/1' AND storefront = ''")
                == 1)
        try await harness.waitUntil("the confirmation is written") { harness.mailFiles().count == 1 }
        let message = try String(contentsOf: try #require(harness.mailFiles().first), encoding: .utf8)
        #expect(mailHeader("Message-ID", in: message) == "<ord-v1.order_confirmed@cobro.local>")
    }

    @Test("payment.failed releases the holds and invites the customer to retry", arguments: StoreEngine.available)
    func failedReleases(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-2", lines: [("MUG-01", 4)])
        try await harness.publish(Events.created(order))
        try await harness.waitForProcessed(1)
        #expect(try await harness.stock("MUG-01")?.available == 1)
        try await harness.publish(Events.failed(order))
        try await harness.waitForProcessed(2)
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held, $0.available] } == [5, 0, 5])
        try await harness.waitUntil("the email is written") { harness.mailFiles().count == 1 }
        let message = try String(contentsOf: harness.mailFiles()[0], encoding: .utf8)
        #expect(mailHeader("Message-ID", in: message) == "<tienda+ord-2.payment_failed@cobro.local>")
        let body = mailBody(message)
        #expect(body.contains("no se completó (insufficient_funds)") && body.contains("volver a intentarlo"), "\(body)")
        // Out of order (a retried message arrives late): a checkout that already failed holds nothing.
        let late = Events.order("ord-2b", lines: [("MUG-01", 1)])
        try await harness.publish([Events.failed(late), Events.created(late)])
        try await harness.waitForProcessed(4)
        #expect(try await harness.stock("MUG-01")?.held == 0)
    }

    @Test("checkout.expired releases the holds without an email", arguments: StoreEngine.available)
    func expiredReleases(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-3", lines: [("TSHIRT-M", 10)])
        try await harness.publish([Events.created(order), Events.expired(order)])
        try await harness.waitForProcessed(2)
        #expect(try await harness.stock("TSHIRT-M").map { [$0.onHand, $0.held] } == [10, 0])
        #expect(try await harness.scalar("SELECT COUNT(*) FROM notification") == 0)
    }

    @Test(
        "payment.pending and payment.action_required: one awaiting email, stock untouched; payment.duplicate changes nothing",
        arguments: StoreEngine.available)
    func awaitingAndDuplicate(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-4", lines: [("MUG-01", 1)], language: .english)
        try await harness.publish([Events.created(order), Events.actionRequired(order), Events.pending(order)])
        try await harness.waitForProcessed(3)
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held] } == [5, 1])
        try await harness.waitUntil("the email is written") { harness.mailFiles().count == 1 }
        let message = try String(contentsOf: harness.mailFiles()[0], encoding: .utf8)
        #expect(mailHeader("Subject", in: message) == "Order ord-4: waiting for your payment to be confirmed")
        #expect(mailBody(message).contains("Your bank needs you to complete the authorisation"), "\(mailBody(message))")

        try await harness.publish([Events.succeeded(order), Events.duplicate(order)])
        try await harness.waitForProcessed(5)
        #expect(try await harness.stock("MUG-01").map { [$0.onHand, $0.held] } == [4, 0])
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale") == 1)
        #expect(
            try await harness.scalar("SELECT COUNT(*) FROM processed_message WHERE type = 'payment.duplicate' AND outcome = 'recorded'")
                == 1)
    }

    @Test(
        "payment.action_required with Fintoc's next_action: the email tells the customer what to do, in the order's language",
        arguments: StoreEngine.available)
    func actionRequiredSaysWhatToDo(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let message = "Un segundo representante de la empresa debe aprobar la transferencia en el portal del banco: <b>{{order_id}}</b>."
        let spanish = Events.order("ord-4es", lines: [("MUG-01", 1)])
        let english = Events.order("ord-4en", lines: [("MUG-01", 1)], language: .english)
        try await harness.publish([
            Events.actionRequired(spanish, nextAction: NextAction(type: "approve_in_bank", message: message)),
            Events.actionRequired(
                english, nextAction: NextAction(type: "approve_in_bank", message: "A second representative must approve it.")),
        ])
        try await harness.waitForProcessed(2)
        try await harness.waitUntil("both emails are written") { harness.mailFiles().count == 2 }
        // Bodies as sent: CRLF line endings.
        let bodies = try harness.mailFiles().map { file in
            let text = try String(contentsOf: file, encoding: .utf8)
            return (mailHeader("Message-ID", in: text) ?? "", mailBody(text))
        }
        let byID = Dictionary(bodies, uniquingKeysWith: { first, _ in first })
        let es = try #require(byID["<tienda+ord-4es.payment_awaiting@cobro.local>"])
        #expect(
            es.contains(
                "Para completar el pago de tu pedido ord-4es por $10.000 CLP falta un paso:\r\n\r\n    \(message)\r\n\r\nTe escribiremos"),
            "\(es)")
        #expect(!es.contains("Tu banco necesita"), "the generic text gives way to Fintoc's")
        let en = try #require(byID["<tienda+ord-4en.payment_awaiting@cobro.local>"])
        #expect(en.contains("One more step is needed to complete the payment for order ord-4en of $10.000 CLP:"), "\(en)")
        #expect(en.contains("    A second representative must approve it.\r\n"), "\(en)")
    }

    @Test("the same message delivered three times changes stock once and sends one email", arguments: StoreEngine.available)
    func redeliveredThreeTimes(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-5", lines: [("TSHIRT-M", 3)])
        try await harness.publish(Events.succeeded(order), times: 3)
        try await harness.waitUntil("three deliveries are counted") {
            harness.metric(#"worker_messages_total{type="payment.succeeded",outcome="duplicate"}"#) == 2
        }
        #expect(try await harness.processedCount() == 1)
        #expect(try await harness.stock("TSHIRT-M")?.onHand == 7)
        try await harness.waitUntil("the email is written") { harness.mailFiles().count == 1 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.mailFiles().count == 1)
        #expect(try await harness.scalar("SELECT COUNT(*) FROM notification") == 1)
    }

    @Test(
        "a paid order the stock cannot cover takes nothing, is recorded as a backorder and published as order.backordered",
        arguments: StoreEngine.available)
    func backorder(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let tap = DeliveryBuffer(
            try await harness.publisher.consume(
                queue: try await BrokerFixture.tap(harness.publisher, exchange: PaymentsTopology.fulfillmentEventsExchange)))
        defer { tap.stop() }
        let order = Events.order("ord-6", lines: [("TSHIRT-M", 2), ("MUG-01", 7), ("NOPE-1", 1)])
        try await harness.publish(Events.succeeded(order))
        try await harness.waitForProcessed(1)
        #expect(try await harness.stock("TSHIRT-M")?.onHand == 10)
        #expect(try await harness.stock("MUG-01")?.onHand == 5)
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE status = 'backordered'") == 1)
        let event = try FulfillmentEnvelope.decode(try #require(try await tap.take(1).first).body)
        #expect(event.type == .orderBackordered)
        #expect(event.data.shortfall == [.init(sku: "MUG-01", quantity: 7, available: 5), .init(sku: "NOPE-1", quantity: 1, available: 0)])
        try await harness.waitUntil("the notice is written") { harness.mailFiles().count == 1 }
        let body = mailBody(try String(contentsOf: harness.mailFiles()[0], encoding: .utf8))
        #expect(body.contains("Producto MUG-01: faltan 2 de 7") && body.contains("Total pagado: $100.000 CLP"), "\(body)")
        #expect(harness.metric("worker_backorders_total") == 1)
    }

    @Test(
        "holds lapse with their checkout: the stock is available again, and a late payment sells from free stock",
        arguments: StoreEngine.available)
    func holdsExpire(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(engine: engine, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let order = Events.order("ord-7", lines: [("MUG-01", 5)])
        try await harness.publish(Events.created(order, expiresIn: 1.5))
        try await harness.waitForProcessed(1)
        #expect(try await harness.stock("MUG-01")?.available == 0)
        let other = Events.order("ord-8", lines: [("MUG-01", 1)])
        try await harness.publish(Events.created(other))
        try await harness.waitForProcessed(2)
        #expect(try await harness.scalar("SELECT outcome = 'not_held' FROM processed_message WHERE order_id = 'ord-8'") == 1)

        try await harness.waitUntil("the hold lapses", timeout: .seconds(10)) { try await harness.stock("MUG-01")?.available == 5 }
        try await harness.waitUntil("housekeeping sweeps it", timeout: .seconds(10)) {
            try await harness.scalar("SELECT COUNT(*) FROM hold") == 0 && harness.metric("worker_holds") == 0
        }
        try await harness.publish(Events.succeeded(order))
        try await harness.waitForProcessed(3)
        #expect(try await harness.stock("MUG-01")?.onHand == 0)
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE status = 'confirmed'") == 1)
    }

    @Test(
        "50 concurrent orders for the last 10 units, two workers: exactly 10 sold, 40 backordered, stock 0",
        arguments: StoreEngine.available)
    func lastTenUnits(engine: StoreEngine) async throws {
        let harness = try await WorkerHarness.start(
            engine: engine, count: 2, prefetch: 8, inventory: [InventoryRow(sku: "LAST", name: "Última unidad", onHand: 10)])
        defer { Task { await harness.stop() } }
        let orders = (1...50).map { Events.order("race-\($0)", lines: [("LAST", 1)]) }
        // Every order's checkout and payment, published concurrently from several tasks.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: 50, by: 10) {
                let slice = Array(orders[chunk..<chunk + 10])
                group.addTask { try await harness.publish(slice.flatMap { [Events.created($0), Events.succeeded($0)] }) }
            }
            try await group.waitForAll()
        }
        try await harness.waitForProcessed(100, timeout: .seconds(60))
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE status = 'confirmed'") == 10)
        #expect(try await harness.scalar("SELECT COUNT(*) FROM sale WHERE status = 'backordered'") == 40)
        #expect(try await harness.stock("LAST").map { [$0.onHand, $0.held, $0.available] } == [0, 0, 0])
        #expect(try await harness.scalar("SELECT COUNT(*) FROM event_outbox") == 50)
        try await harness.waitUntil("every email is written", timeout: .seconds(30)) { harness.mailFiles().count == 50 }
    }
}
