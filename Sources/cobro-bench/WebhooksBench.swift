import AMQP
import ArgumentParser
import AsyncHTTPClient
import Fintoc
import Foundation
import NIOCore
import NIOHTTP1
import PaymentsCore

/// Webhook ingest against a running `payments-gateway` (with durable commits, as it always runs):
/// makes checkouts through its API, then sends each one's Fintoc history as signed webhooks from
/// `concurrency` connections, measuring every answer, and finally counts the domain events the
/// relay published to the work queue (each must arrive exactly once).
struct WebhooksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Signed webhooks ingested per second and their latency, then the events published.",
        discussion: BenchSecrets.help
    )

    @Option(
        help:
            "Gateway base URL (loopback); several, comma-separated, for gateway replicas on one database: connection i sends to the (i mod n)-th."
    )
    var gateway = "http://127.0.0.1:8080"

    /// Every gateway named; checkouts are made through the first.
    var gateways: [String] { gateway.split(separator: ",").map { BenchHTTP.trimmed(String($0)) } }

    /// `COBRO_BENCH_STOREFRONT_KEY` (or its `_FILE`): never an argument, which `ps` would show.
    var key: String { get throws { try BenchSecrets.value(BenchSecrets.storefrontKey) } }

    /// `COBRO_BENCH_WEBHOOK_SECRET` (or its `_FILE`), else the sandbox's default secret.
    var secret: String { get throws { try BenchSecrets.value(BenchSecrets.webhookSecret) } }

    /// `AMQP_URL` (or its `_FILE`): the broker the gateway publishes to; the work queue is
    /// declared and drained there. The URL holds the broker's password.
    var url: String { get throws { try BenchSecrets.value(BenchSecrets.amqpURL) } }

    @Option(help: "Webhooks per measurement (three per checkout: pending, succeeded, a redelivery).")
    var count = 30_000

    @Option(help: "Connections sending at once.")
    var concurrency = 64

    @Option(help: "Time limit of the measurement, in seconds.")
    var seconds = 20.0

    @Option(help: "Checkouts created at once while preparing.")
    var setupConcurrency = 16

    @Option(help: "PID of a gateway process, for their CPU time per webhook (Linux /proc); once per replica.")
    var gatewayPid: [Int32] = []

    func validate() throws {
        guard count >= 3, concurrency >= 1, seconds > 0, setupConcurrency >= 1 else {
            throw ValidationError("--count at least 3, --concurrency and --setup-concurrency at least 1, --seconds positive")
        }
        guard (try key).utf8.count >= 16 else {
            throw ValidationError("COBRO_BENCH_STOREFRONT_KEY: a storefront key of 16 characters or more")
        }
    }

    func run() async throws {
        let client = BenchHTTP.client(connections: max(concurrency, setupConcurrency))
        defer { _ = client.shutdown() as EventLoopFuture<Void> }

        // The worker's queue, so every published event has somewhere to go and can be counted.
        let broker = try await AMQPConnection.connect(url: try url, connectionName: "cobro-bench-webhooks")
        try await broker.declare(AMQP.Topology(rabbitMQDefinitions: JSONEncoder().encode(PaymentsTopology.definitions())))
        let drained = await drain(broker, idle: .seconds(2))
        log("work queue emptied of \(drained) earlier messages")

        let checkouts = count / 3
        log("creating \(checkouts) checkouts (payment_intent) through the gateway")
        let providers = try await createCheckouts(client, count: checkouts)
        let stamp = Int64(Date().timeIntervalSince1970)
        let signer = WebhookSigner(secret: try secret)
        // Fintoc's order per payment: pending, then succeeded, then the succeeded event again.
        var bodies: [(Data, String)] = []
        bodies.reserveCapacity(checkouts * 3)
        for phase in 0..<3 {
            for (index, provider) in providers.enumerated() {
                let status = phase == 0 ? "pending" : "succeeded"
                let eventID = phase == 2 ? "evt_bench_\(index)_1" : "evt_bench_\(index)_\(phase)"
                let body = Data(
                    #"{"id":"\#(eventID)","object":"event","type":"payment_intent.\#(status)","mode":"test","created_at":"2026-11-21T10:00:00Z","data":{"id":"\#(provider.pi)","object":"payment_intent","status":"\#(status)","amount":30970,"currency":"CLP","mode":"test","metadata":{"cobro_checkout_id":"\#(provider.checkout)"}}}"#
                        .utf8)
                bodies.append((body, signer.header(for: body, timestamp: stamp)))
            }
        }

        let cpuBefore = Self.cpuSeconds(gatewayPid)
        log("\(bodies.count) webhooks, \(concurrency) connections, at most \(seconds) s")
        let started = ContinuousClock.now
        let outcome = await send(client, urls: gateways.map { $0 + "/webhooks/fintoc" }, bodies: bodies)
        let elapsed = (ContinuousClock.now - started).seconds
        let cpuAfter = Self.cpuSeconds(gatewayPid)
        let figures = Figures(
            target: "gateway", endpoint: "POST /webhooks/fintoc", latenciesMS: outcome.latencies.sorted(), errors: outcome.errors,
            elapsed: elapsed, cpu: cpuBefore.flatMap { before in cpuAfter.map { ["gateway": $0 - before] } } ?? [:]
        )
        log(
            "\(figures.completed) in \(String(format: "%.2f", elapsed)) s = \(Int(figures.rate))/s, p50 \(String(format: "%.2f", figures.percentile(0.5))) ms, p99 \(String(format: "%.2f", figures.percentile(0.99))) ms, errors \(figures.errorTotal)"
        )

        // checkout.created for each checkout, then pending and succeeded for each one sent.
        let sent = figures.completed
        let expected = checkouts + min(sent, checkouts) + min(max(sent - checkouts, 0), checkouts)
        let publishStarted = ContinuousClock.now
        let published = await drain(broker, idle: .seconds(3), upTo: expected)
        let drainSeconds = (ContinuousClock.now - publishStarted).seconds
        await broker.close()

        var result = figures.json
        result["concurrency"] = concurrency
        result["gateways"] = gateways.count
        result["webhooks"] = bodies.count
        result["events_expected"] = expected
        result["events_published"] = published
        result["publish_drain_s"] = round3(drainSeconds)
        result["durable"] = "the answer comes after the commit (SQLite: synchronous = FULL; PostgreSQL: synchronous_commit on)"
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func createCheckouts(_ client: HTTPClient, count: Int) async throws -> [(checkout: String, pi: String)] {
        let run = UUID().uuidString.prefix(8).lowercased()
        return try await BenchHTTP.paymentIntentCheckouts(
            client, gateway: gateways[0], key: try key, count: count, width: setupConcurrency, idempotencyPrefix: "wh-\(run)"
        ) { index in
            #"{"order_id":"ord-wh-\#(run)-\#(index)","currency":"CLP","amount":30970,"line_items":[{"sku":"SKU-TEE-001","name":"Polera","quantity":2,"unit_amount":12990},{"sku":"SKU-MUG-002","name":"Taza","quantity":1,"unit_amount":4990}],"customer":{"email":"buyer@example.com"},"success_url":"https://shop.example/ok","cancel_url":"https://shop.example/ko","ui":"payment_intent"}"#
        }.map { ($0.checkout, $0.provider) }
    }

    private struct Outcome {
        var latencies: [Double] = []
        var errors: [String: Int] = [:]
    }

    /// The CPU seconds the processes `pids` have used, added up; nil when one cannot be read.
    static func cpuSeconds(_ pids: [Int32]) -> Double? {
        guard !pids.isEmpty else { return nil }
        var total = 0.0
        for pid in pids {
            guard let seconds = CheckoutsBench.procCPUSeconds(pid) else { return nil }
            total += seconds
        }
        return total
    }

    private func send(_ client: HTTPClient, urls: [String], bodies: [(Data, String)]) async -> Outcome {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let next = Counter()
        return await withTaskGroup(of: Outcome.self) { group in
            for connection in 0..<concurrency {
                let url = urls[connection % urls.count]
                group.addTask {
                    var outcome = Outcome()
                    while ContinuousClock.now < deadline {
                        let index = next.increment()
                        guard index < bodies.count else { break }
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: WebhookSigner.headerName, value: bodies[index].1)
                        request.body = .bytes(ByteBuffer(data: bodies[index].0))
                        let started = ContinuousClock.now
                        do {
                            let response = try await client.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            if response.status == .ok {
                                outcome.latencies.append((ContinuousClock.now - started).milliseconds)
                            } else {
                                outcome.errors[String(response.status.code), default: 0] += 1
                            }
                        } catch {
                            outcome.errors["transport", default: 0] += 1
                        }
                    }
                    return outcome
                }
            }
            var merged = Outcome()
            for await part in group {
                merged.latencies += part.latencies
                merged.errors.merge(part.errors, uniquingKeysWith: +)
            }
            return merged
        }
    }

    /// Consumes and acks the work queue until `upTo` messages or `idle` without one; returns the
    /// count of distinct message ids.
    private func drain(_ broker: AMQPConnection, idle: Duration, upTo limit: Int = .max) async -> Int {
        guard let consumer = try? await broker.consume(queue: PaymentsTopology.fulfillmentQueue, prefetch: 1000) else { return 0 }
        var ids = Set<String>()
        var total = 0
        let overall = ContinuousClock.now + .seconds(120)
        await withTaskGroup(of: Void.self) { group in
            let stream = AsyncStream<Delivery?> { continuation in
                group.addTask {
                    do {
                        for try await delivery in consumer { continuation.yield(delivery) }
                    } catch {}
                    continuation.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(200))
                        continuation.yield(nil)
                    }
                }
            }
            var lastSeen = ContinuousClock.now
            for await item in stream {
                if let delivery = item {
                    try? delivery.ack()
                    total += 1
                    if let id = delivery.properties.messageID { ids.insert(id) }
                    lastSeen = ContinuousClock.now
                }
                if total >= limit || ContinuousClock.now - lastSeen > idle || ContinuousClock.now > overall { break }
            }
            group.cancelAll()
        }
        if total != ids.count { log("\(total - ids.count) duplicate deliveries") }
        return ids.count
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data(("webhooks: " + line + "\n").utf8))
    }
}
