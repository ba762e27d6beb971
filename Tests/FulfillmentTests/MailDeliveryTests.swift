import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

@testable import Fulfillment

/// Customer emails over SMTP to a real server (aiosmtpd), started by each test.
@Suite("Mail delivery", .needsBroker, .tags(.broker), .serialized)
struct MailDeliveryTests {
    static let stock = [InventoryRow(sku: "SKU-1", name: "Uno", onHand: 100)]

    @Test("SMTP down for a while, then up: every email arrives exactly once, with a stable Message-ID", arguments: StoreEngine.available)
    func smtpDownThenUp(engine: StoreEngine) async throws {
        let port = try RefusingPort()
        let smtp = try SMTPSettings(url: "smtp://127.0.0.1:\(port.port)?starttls=never")
        let harness = try await WorkerHarness.start(engine: engine, smtp: smtp, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let orders = (1...5).map { Events.order("mail-\($0)", lines: [("SKU-1", 1)]) }
        try await harness.publish(orders.map { Events.succeeded($0) } + [Events.failed(Events.order("mail-f", lines: [("SKU-1", 1)]))])
        try await harness.waitForProcessed(6)
        try await harness.waitUntil("sends fail while the server is down") {
            try await harness.scalar("SELECT COUNT(*) FROM notification WHERE attempts >= 2") >= 1
        }
        #expect(try await harness.scalar("SELECT COUNT(*) FROM notification WHERE sent_at IS NOT NULL") == 0)
        try await harness.waitUntil("the backlog gauge shows them") {
            harness.metric("worker_notification_backlog") == 6
        }

        port.release()
        let server = try await SMTPServer(port: port.port)
        defer { server.stop() }
        try await harness.waitUntil("every email is sent", timeout: .seconds(30)) {
            try await harness.scalar("SELECT COUNT(*) FROM notification WHERE sent_at IS NOT NULL") == 6
        }
        try await Task.sleep(for: .seconds(1))
        let messages = server.messages()
        #expect(messages.count == 6)
        let ids = messages.compactMap { mailHeader("Message-ID", in: $0) }
        #expect(
            Set(ids) == Set(orders.map { "<tienda+\($0.id).order_confirmed@cobro.local>" } + ["<tienda+mail-f.payment_failed@cobro.local>"])
        )
        #expect(server.envelope(0)?.contains("cliente@example.cl") == true)
        #expect(harness.metric("worker_emails_sent_total") == 6)
    }

    @Test(
        "two workers on one database: each email is sent once and each worker event published once",
        arguments: StoreEngine.available)
    func twoWorkersShareTheOutboxes(engine: StoreEngine) async throws {
        let port = try TestPorts.reserve()
        let server = try await SMTPServer(port: port)
        defer { server.stop() }
        let smtp = try SMTPSettings(url: "smtp://127.0.0.1:\(port)?starttls=never")
        let harness = try await WorkerHarness.start(engine: engine, count: 2, prefetch: 8, smtp: smtp, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        let tap = DeliveryBuffer(
            try await harness.publisher.consume(
                queue: try await BrokerFixture.tap(harness.publisher, exchange: PaymentsTopology.fulfillmentEventsExchange)))
        defer { tap.stop() }
        let orders = (1...40).map { Events.order("pair-\($0)", lines: [("SKU-1", 1)]) }
        try await harness.publish(orders.map { Events.succeeded($0) })
        try await harness.waitForProcessed(40)
        try await harness.waitUntil("every email is sent", timeout: .seconds(30)) {
            try await harness.scalar("SELECT COUNT(*) FROM notification WHERE sent_at IS NOT NULL") == 40
        }
        let events = try await tap.take(40)
        #expect(Set(events.compactMap(\.properties.messageID)).count == 40)
        // Anything published or sent twice would arrive within this second.
        #expect(try await tap.take(1, timeout: .seconds(1)).isEmpty, "no event published twice")
        let ids = server.messages().compactMap { mailHeader("Message-ID", in: $0) }
        #expect(ids.count == 40 && Set(ids).count == 40, "\(ids.count) emails, \(Set(ids).count) distinct")
    }

    @Test("STARTTLS with AUTH, trusting the server's certificate through SMTP_CA_FILE")
    func startTLSWithAuth() async throws {
        let tls = try TLSFiles.make()
        let port = try RefusingPort()
        port.release()
        let server = try await SMTPServer(port: port.port, mode: .starttls, tls: tls, user: "worker", password: "s3cret pass")
        defer { server.stop() }
        let smtp = try SMTPSettings(
            url: "smtp://worker:s3cret%20pass@127.0.0.1:\(port.port)?starttls=required", caFile: tls.certificate.path)
        let harness = try await WorkerHarness.start(smtp: smtp, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        try await harness.publish(Events.succeeded(Events.order("tls-1", lines: [("SKU-1", 2)], language: .english)))
        try await harness.waitUntil("the email arrives") { server.messages().count == 1 }
        let message = server.messages()[0]
        #expect(mailHeader("Subject", in: message) == "Order tls-1 confirmed")
        #expect(mailBody(message).contains("We received your payment and your order tls-1 is confirmed."))
    }

    @Test("SMTPS (implicit TLS) with AUTH; a wrong password is retried, never logged or stored")
    func smtpsWithAuth() async throws {
        let tls = try TLSFiles.make()
        let port = try RefusingPort()
        port.release()
        let server = try await SMTPServer(port: port.port, mode: .smtps, tls: tls, user: "worker", password: "right")
        defer { server.stop() }
        let good = try SMTPSettings(url: "smtps://worker:right@127.0.0.1:\(port.port)", caFile: tls.certificate.path)
        let harness = try await WorkerHarness.start(smtp: good, inventory: Self.stock)
        defer { Task { await harness.stop() } }
        try await harness.publish(Events.succeeded(Events.order("tls-2", lines: [("SKU-1", 1)])))
        try await harness.waitUntil("the email arrives") { server.messages().count == 1 }

        let bad = try SMTPSettings(url: "smtps://worker:wrong-password@127.0.0.1:\(port.port)", caFile: tls.certificate.path)
        let failing = try await WorkerHarness.start(smtp: bad, inventory: Self.stock)
        defer { Task { await failing.stop() } }
        try await failing.publish(Events.succeeded(Events.order("tls-3", lines: [("SKU-1", 1)])))
        try await failing.waitUntil("the send fails") { try await failing.scalar("SELECT attempts FROM notification") >= 1 }
        let error = try await failing.sqlitePool.read { db in try String.fetchOne(db, sql: "SELECT last_error FROM notification") } ?? ""
        #expect(!error.isEmpty && !error.contains("wrong-password"), "\(error)")
        #expect(
            try await failing.scalar("SELECT COUNT(*) FROM notification WHERE failed_at IS NULL AND sent_at IS NULL") == 1,
            "kept for a retry")
        #expect(!bad.description.contains("wrong-password"))
    }
}
