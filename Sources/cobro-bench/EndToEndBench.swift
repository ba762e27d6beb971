import ArgumentParser
import AsyncHTTPClient
import Fintoc
import Foundation
import GRDB
import NIOCore
import Synchronization

/// The whole path: a signed `payment_intent.succeeded` webhook accepted by the gateway, to the
/// worker's stock committed. Against a running gateway and worker: makes checkouts, then sends
/// their webhooks either as fast as `concurrency` connections allow (the rate) or paced at
/// `rate` per second (the latency at that load), and reads from the worker's SQLite file when
/// each sale was committed.
struct EndToEndBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Paid orders per second from webhook to stock committed, and that latency at a given rate.",
        discussion: BenchSecrets.help
    )

    @Option(help: "Gateway base URL (loopback).")
    var gateway = "http://127.0.0.1:8080"

    /// `COBRO_BENCH_STOREFRONT_KEY` (or its `_FILE`): never an argument, which `ps` would show.
    var key: String { get throws { try BenchSecrets.value(BenchSecrets.storefrontKey) } }

    /// `COBRO_BENCH_WEBHOOK_SECRET` (or its `_FILE`), else the sandbox's default secret.
    var secret: String { get throws { try BenchSecrets.value(BenchSecrets.webhookSecret) } }

    @Option(help: "The worker's SQLite file (WORKER_DATABASE), read for the commit times.")
    var workerDatabase: String

    @Option(help: "Orders per measurement.")
    var count = 5_000

    @Option(help: "Webhooks per second to pace at; 0 sends as fast as the connections allow.")
    var rate = 0.0

    @Option(help: "Connections sending at once.")
    var concurrency = 64

    @Option(help: "Time limit for sending, in seconds (the worker then gets up to 60 s to catch up).")
    var seconds = 20.0

    @Option(help: "SKU every order buys one of (must be in the worker's inventory).")
    var sku = "BENCH-SKU"

    func validate() throws {
        guard count >= 1, concurrency >= 1, seconds > 0, rate >= 0 else {
            throw ValidationError("--count, --concurrency positive; --seconds positive; --rate 0 or more")
        }
        guard (try key).utf8.count >= 16 else {
            throw ValidationError("COBRO_BENCH_STOREFRONT_KEY: a storefront key of 16 characters or more")
        }
    }

    func run() async throws {
        let client = BenchHTTP.client(connections: concurrency)
        defer { _ = client.shutdown() as EventLoopFuture<Void> }
        let base = BenchHTTP.trimmed(gateway)
        let run = UUID().uuidString.prefix(6).lowercased()

        log("creating \(count) checkouts")
        let made = try await BenchHTTP.paymentIntentCheckouts(
            client, gateway: gateway, key: try key, count: count, idempotencyPrefix: "e2e-\(run)"
        ) { index in
            #"{"order_id":"e2e-\#(run)-\#(index)","currency":"CLP","amount":10000,"line_items":[{"sku":"\#(sku)","name":"Bench","quantity":1,"unit_amount":10000}],"customer":{"email":"bench@example.com"},"success_url":"https://shop.example/ok","cancel_url":"https://shop.example/ko","ui":"payment_intent"}"#
        }
        // Let the checkouts' own events (holds) drain before the measurement.
        try await Task.sleep(for: .seconds(2))

        let signer = WebhookSigner(secret: try secret)
        let stamp = Int64(Date().timeIntervalSince1970)
        let accepted = AcceptTimes(count: count)
        let started = Date()
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        log(rate > 0 ? "sending \(count) webhooks at \(Int(rate))/s" : "sending \(count) webhooks, \(concurrency) connections")
        _ = try await BenchHTTP.parallel(count: count, width: concurrency) { index -> Bool in
            if rate > 0 {
                let due = start + .seconds(Double(index) / rate)
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
            }
            guard ContinuousClock.now < deadline else { return false }
            let (checkout, provider) = made[index]
            let body = Data(
                #"{"id":"evt_e2e_\#(run)_\#(index)","object":"event","type":"payment_intent.succeeded","mode":"test","created_at":"2026-11-21T10:00:00Z","data":{"id":"\#(provider)","object":"payment_intent","status":"succeeded","amount":10000,"currency":"CLP","mode":"test","metadata":{"cobro_checkout_id":"\#(checkout)"}}}"#
                    .utf8)
            var request = HTTPClientRequest(url: base + "/webhooks/fintoc")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: WebhookSigner.headerName, value: signer.header(for: body, timestamp: stamp))
            request.body = .bytes(ByteBuffer(data: body))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok else { return false }
            accepted.set(index, Date())
            return true
        }
        let sendSeconds = Date().timeIntervalSince(started)
        let sent = accepted.count
        log("\(sent) webhooks accepted in \(String(format: "%.2f", sendSeconds)) s; waiting for the worker")

        // The worker's commit time of each order's sale.
        let queue = try DatabaseQueue(path: workerDatabase)
        var committed: [String: Date] = [:]
        let waitUntil = Date().addingTimeInterval(60)
        while committed.count < sent && Date() < waitUntil {
            committed = try await queue.read { db in
                var result: [String: Date] = [:]
                for row in try Row.fetchAll(
                    db, sql: "SELECT order_id, created_at FROM sale WHERE order_id LIKE ?", arguments: ["e2e-\(run)-%"])
                {
                    result[row[0]] = row[1]
                }
                return result
            }
            if committed.count < sent { try await Task.sleep(for: .milliseconds(250)) }
        }
        try queue.close()
        var latencies: [Double] = []
        var last = started
        for index in 0..<count {
            guard let sentAt = accepted.get(index), let at = committed["e2e-\(run)-\(index)"] else { continue }
            latencies.append(max(0, at.timeIntervalSince(sentAt) * 1000))
            last = max(last, at)
        }
        latencies.sort()
        func percentile(_ q: Double) -> Double { nearestRank(latencies, q) }
        let total = last.timeIntervalSince(started)
        let result: [String: Any] = [
            "orders": count, "accepted": sent, "committed": latencies.count, "rate_target_per_s": rate, "concurrency": concurrency,
            "per_s": total > 0 ? (Double(latencies.count) / total * 10).rounded() / 10 : 0,
            "latency_ms": [
                "p50": round3(percentile(0.5)), "p90": round3(percentile(0.9)), "p99": round3(percentile(0.99)),
                "max": round3(latencies.last ?? 0),
            ],
            "latency": "from the gateway's 200 to the webhook to the worker's sale row commit (its created_at), same clock",
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data(("e2e: " + line + "\n").utf8))
    }
}

/// When each webhook was answered 200, by order index.
private final class AcceptTimes: Sendable {
    private let times: Mutex<[Date?]>

    init(count: Int) { times = Mutex(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ date: Date) { times.withLock { $0[index] = date } }
    func get(_ index: Int) -> Date? { times.withLock { $0[index] } }
    var count: Int { times.withLock { $0.compactMap { $0 }.count } }
}
