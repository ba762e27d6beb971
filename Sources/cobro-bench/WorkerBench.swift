import AMQP
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import PaymentsCore

/// The fulfillment-worker's throughput in two phases, driven by scripts/bench: `load` fills
/// `fulfillment.payments` with checkout.created + payment.succeeded pairs while no worker runs;
/// `measure` then watches a freshly started worker's `/metrics` until it has applied them all
/// (or the time limit), and reports events consumed and applied per second from its first
/// applied message to its last. Every loop is bounded by a count and a time limit.
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Events consumed and applied per second by a fulfillment-worker (load the queue, then measure).",
        discussion:
            "The broker is AMQP_URL (or the file AMQP_URL_FILE names; default amqp://guest:guest@127.0.0.1:5672/), never an argument: its password would show in ps."
    )

    @Argument(help: "load or measure.")
    var phase: String

    /// `AMQP_URL` (or its `_FILE`): the URL holds the broker's password.
    var url: String { get throws { try BenchSecrets.value(BenchSecrets.amqpURL) } }

    @Option(help: "Events to publish (half checkout.created, half payment.succeeded).")
    var events = 50_000

    @Option(help: "SKUs the orders draw from (the inventory file must list SKU-0 … SKU-<n-1>).")
    var skus = 100

    @Option(help: "A worker's metrics URL (measure); repeat it for several replicas, whose counts are added up.")
    var metrics: [String] = ["http://127.0.0.1:8081/metrics"]

    @Option(help: "Time limit in seconds.")
    var seconds = 120.0

    func validate() throws {
        guard phase == "load" || phase == "measure" else { throw ArgumentParser.ValidationError("the phase is load or measure") }
        guard events >= 2, skus >= 1, seconds > 0 else {
            throw ArgumentParser.ValidationError("--events at least 2, --skus at least 1, --seconds positive")
        }
    }

    func run() async throws {
        phase == "load" ? try await load() : try await measure()
    }

    private func load() async throws {
        var configuration = try AMQPConfiguration(url: try url, connectionName: "cobro-bench-worker-load")
        configuration.topology = try Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions()))
        configuration.publishWindow = 1024
        let connection = try await AMQPConnection.connect(configuration)
        let purged = try await connection.purgeQueue(PaymentsTopology.fulfillmentQueue)
        let runID = UUID().uuidString.prefix(6).lowercased()
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        var published = 0
        var batch: [OutboundMessage] = []
        for index in 0..<(events / 2) {
            let order = Self.order("b\(runID)-\(index)", index: index, skus: skus)
            let checkout = CheckoutSnapshot(
                id: try CheckoutID("chk_\(runID)_\(index)"), attempt: 1, ui: .redirect,
                providerID: "cs_\(index)", expiresAt: Date().addingTimeInterval(3600))
            batch.append(
                try Self.message(.checkoutCreated(CheckoutCreated(order: order, checkout: checkout, mode: .test, occurredAt: Date()))))
            batch.append(
                try Self.message(
                    .paymentSucceeded(
                        PaymentSucceeded(
                            order: order, checkout: checkout, payment: PaymentSnapshot(id: "pi_\(runID)_\(index)", status: .succeeded),
                            mode: .test, occurredAt: Date()))))
            if batch.count >= 2048 {
                published += await connection.publish(batch).filter(\.isAcked).count
                batch = []
                if ContinuousClock.now > deadline { break }
            }
        }
        published += await connection.publish(batch).filter(\.isAcked).count
        let elapsed = (ContinuousClock.now - started).seconds
        let waiting = try await connection.inspectQueue(PaymentsTopology.fulfillmentQueue).messageCount
        await connection.close()
        print(
            try json([
                "published": published, "purged_before": purged, "queued": waiting,
                "publish_per_s": (Double(published) / elapsed).rounded(),
            ]))
    }

    /// 1 to 3 lines per order, spread over the SKUs.
    static func order(_ id: String, index: Int, skus: Int) -> OrderSnapshot {
        let lines = (0...(index % 3)).map { line in
            LineItem(
                sku: "SKU-\((index * 7 + line * 13) % skus)", name: "Bench product \(line)", quantity: Int64(1 + line), unitAmount: 9_990)
        }
        return OrderSnapshot(
            id: try! OrderID(id), storefront: StorefrontID(uncheckedRawValue: "bench"),
            amount: lines.reduce(0) { $0 + $1.quantity * $1.unitAmount }, currency: .clp,
            lineItems: lines, customer: Customer(email: "bench\(index % 1000)@example.cl", name: "Cliente \(index)"))
    }

    static func message(_ event: DomainEvent) throws -> OutboundMessage {
        let envelope = EventEnvelope(event: event)
        let values = envelope.messageProperties
        return OutboundMessage(
            exchange: PaymentsTopology.paymentsExchange, routingKey: values.routingKey, body: try envelope.encoded(),
            properties: BasicProperties(
                contentType: values.contentType, deliveryMode: .persistent, messageID: values.messageID,
                timestamp: envelope.time, type: values.type, appID: values.appID))
    }

    private func measure() async throws {
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        var first: (ContinuousClock.Instant, Double)?
        var last: (ContinuousClock.Instant, Double) = (started, 0)
        while ContinuousClock.now < deadline {
            let applied = try await appliedCount()
            let now = ContinuousClock.now
            if first == nil, applied > 0 { first = (now, applied) }
            if applied > last.1 { last = (now, applied) }
            if applied >= Double(events) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let first else { throw NothingApplied(seconds: seconds) }
        // From the first sample that saw work to the sample that saw the last of it: the
        // messages applied in between, over that time.
        let elapsed = max((last.0 - first.0).seconds, 0.001)
        let rate = (last.1 - first.1) / elapsed
        print(
            try json([
                "applied": Int(last.1), "target": events, "seconds": (elapsed * 1000).rounded() / 1000,
                "events_per_s": rate.rounded(), "complete": last.1 >= Double(events),
            ]))
    }

    /// Sum of `worker_messages_total` over types, outcomes and replicas, from each worker's /metrics.
    private func appliedCount() async throws -> Double {
        var total = 0.0
        for url in metrics {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            let text = String(buffer: try await response.body.collect(upTo: 8 << 20))
            for line in text.split(separator: "\n") where line.hasPrefix("worker_messages_total{") {
                if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
            }
        }
        return total
    }

    private func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

struct NothingApplied: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "the worker applied nothing within \(seconds) s" }
}
