import AsyncHTTPClient
import CobroTestSupport
import Foundation
import Fulfillment
import Logging
import NIOCore
import PaymentsCore
import ServiceLifecycle
import Testing

/// `/healthz`, `/readyz` and `/metrics` over HTTP, as Prometheus and an orchestrator see them.
@Suite("Worker operations endpoints", .serialized)
struct OperationsTests {
    static func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/\(path)"), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    @Test("healthz and readyz answer 200 with the broker up; /metrics has every metric the dashboard reads", .needsBroker, .tags(.broker))
    func upAndMetrics() async throws {
        let port = try TestPorts.reserve()
        let harness = try await WorkerHarness.start(inventory: [InventoryRow(sku: "SKU-1", name: "Uno", onHand: 5)]) { $0.port = port }
        defer { Task { await harness.stop() } }
        let order = Events.order("ops-1", lines: [("SKU-1", 1)])
        try await harness.publish([Events.created(order), Events.succeeded(order)])
        try await harness.waitForProcessed(2)
        try await harness.waitUntil("the HTTP server answers") { (try? await Self.get(port, "healthz"))?.status == 200 }
        let ready = try await Self.get(port, "readyz")
        #expect(ready.status == 200 && ready.body.contains(#""status":"ready""#), "\(ready)")
        try await harness.waitUntil("the email is sent") { harness.metric("worker_emails_sent_total") == 1 }
        let metrics = try await Self.get(port, "metrics")
        #expect(metrics.status == 200)
        for name in [
            "worker_messages_total", "worker_processing_duration_seconds_bucket", "worker_retries_total", "worker_parked_total",
            "worker_holds", "worker_backorders_total", "worker_emails_sent_total", "worker_emails_failed_total",
            "worker_notification_backlog",
        ] {
            #expect(metrics.body.contains("\n\(name)"), "\(name) missing")
        }
        #expect(metrics.body.contains(#"worker_messages_total{type="payment.succeeded",outcome="sold"} 1"#), "\(metrics.body)")
        #expect(!metrics.body.contains("ops-1"), "no ids in labels")
    }

    @Test("readyz answers 503 naming the broker while it cannot be reached; healthz stays 200")
    func notReadyWithoutBroker() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let port = try TestPorts.reserve()
        var configuration = WorkerConfiguration()
        configuration.port = port
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-ops-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        configuration.database = .sqlite(path: directory.appendingPathComponent("fulfillment.sqlite").path)
        configuration.mailDirectory = directory.appendingPathComponent("mail").path
        configuration.amqpURL = "amqp://guest:secret-password@127.0.0.1:\(refusing.port)/"
        var logger = Logger(label: "worker-ops-test")
        logger.logLevel = .critical
        let group = ServiceGroup(
            configuration: .init(services: [try await buildApplication(configuration: configuration, logger: logger)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        var healthy: (status: Int, body: String)?
        let deadline = ContinuousClock.now + .seconds(20)
        while healthy?.status != 200, ContinuousClock.now < deadline {
            healthy = try? await Self.get(port, "healthz")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(healthy?.status == 200)
        let ready = try await Self.get(port, "readyz")
        #expect(
            ready.status == 503 && ready.body.contains(#""broker":"unavailable""#) && ready.body.contains(#""database":"ok""#), "\(ready)")
        #expect(!ready.body.contains("secret-password"))
        await group.triggerGracefulShutdown()
        _ = await running.result
    }
}
