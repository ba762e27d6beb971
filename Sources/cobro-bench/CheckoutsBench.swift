import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Checkout creation against a running `fintoc-sandbox` and a `payments-gateway` that uses it:
/// first straight to the sandbox with the body the gateway would send it, then through the
/// gateway's `POST /v1/checkouts`. The difference between the two is the gateway's overhead.
/// Every loop is bounded by a request count and by a time limit.
struct CheckoutsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkouts",
        abstract: "Checkout creations per second and latency percentiles: direct to the sandbox, then through the gateway.",
        discussion: BenchSecrets.help
    )

    @Option(help: "Gateway base URL (loopback).")
    var gateway = "http://127.0.0.1:8080"

    @Option(help: "Sandbox base URL (loopback), the gateway's FINTOC_API_URL.")
    var sandbox = "http://127.0.0.1:8090"

    /// `COBRO_BENCH_STOREFRONT_KEY` (or its `_FILE`): never an argument, which `ps` would show.
    var key: String { get throws { try BenchSecrets.value(BenchSecrets.storefrontKey) } }

    /// `COBRO_BENCH_SANDBOX_KEY` (or its `_FILE`), else the sandbox's default key.
    var sandboxKey: String { get throws { try BenchSecrets.value(BenchSecrets.sandboxKey) } }

    @Option(help: "Requests in flight at once.")
    var concurrency = 16

    @Option(help: "Requests per measurement (warm-up not included).")
    var count = 5_000

    @Option(help: "Time limit per measurement, in seconds.")
    var seconds = 20.0

    @Option(help: "Checkout kind: redirect (v2 session), widget (v1 session) or payment_intent.")
    var ui = "redirect"

    @Option(help: "Unmeasured requests before each measurement (opens connections, warms caches).")
    var warmup = 200

    @Option(help: "Which measurements to run: sandbox, gateway or both.")
    var targets = "both"

    @Option(help: "PID of the gateway process, to report its CPU time per checkout (Linux /proc).")
    var gatewayPid: Int32?

    @Option(help: "PID of the sandbox process, to report its CPU time per checkout (Linux /proc).")
    var sandboxPid: Int32?

    @Flag(help: "Print only the JSON object.")
    var json = false

    func validate() throws {
        guard ["redirect", "widget", "payment_intent"].contains(ui) else {
            throw ValidationError("--ui is redirect, widget or payment_intent")
        }
        guard ["sandbox", "gateway", "both"].contains(targets) else { throw ValidationError("--targets is sandbox, gateway or both") }
        guard concurrency >= 1, count >= 1, warmup >= 0, seconds > 0 else {
            throw ValidationError("--concurrency and --count must be at least 1, --warmup at least 0, --seconds positive")
        }
        guard try targets == "sandbox" || key.utf8.count >= 16 else {
            throw ValidationError("COBRO_BENCH_STOREFRONT_KEY: the gateway needs a storefront key of 16 characters or more")
        }
    }

    func run() async throws {
        let client = BenchHTTP.client(connections: concurrency)
        let runID = UUID().uuidString.prefix(8).lowercased()

        var result: [String: Any] = [
            "ui": ui, "concurrency": concurrency, "count": count, "seconds": seconds, "warmup": warmup,
            "percentiles": "nearest rank over every recorded latency (ms), measured from request start to the whole answer read",
        ]
        do {
            var sandboxFigures: Figures?
            var gatewayFigures: Figures?
            if targets != "gateway" {
                let target = Target.sandbox(base: sandbox, key: try sandboxKey, ui: ui)
                sandboxFigures = try await measure(client, target, runID: "\(runID)s")
                result["sandbox"] = sandboxFigures!.json
            }
            if targets != "sandbox" {
                let target = Target.gateway(base: gateway, key: try key, ui: ui)
                gatewayFigures = try await measure(client, target, runID: "\(runID)g")
                result["gateway"] = gatewayFigures!.json
            }
            if let direct = sandboxFigures, let through = gatewayFigures {
                result["overhead_ms"] = [
                    "p50": round3(through.percentile(0.50) - direct.percentile(0.50)),
                    "p99": round3(through.percentile(0.99) - direct.percentile(0.99)),
                    "method": "gateway latency percentile minus the direct-to-sandbox percentile at the same concurrency, "
                        + "measured one after the other (a difference of percentiles, not a percentile of per-request differences)",
                ]
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Measuring

    /// Warms up, then runs `concurrency` workers until `count` requests are sent or `seconds`
    /// pass, recording every latency.
    private func measure(_ client: HTTPClient, _ target: Target, runID: String) async throws -> Figures {
        if warmup > 0 {
            log("\(target.name): warm-up, \(warmup) requests")
            _ = await load(client, target, prefix: "\(runID)w", total: warmup, limit: .seconds(max(seconds, 30)))
        }
        let cpuBefore = cpuSeconds(of: target)
        log("\(target.name): \(count) requests, at most \(seconds) s, \(concurrency) in flight")
        let started = ContinuousClock.now
        let outcome = await load(client, target, prefix: runID, total: count, limit: .seconds(seconds))
        let elapsed = (ContinuousClock.now - started).seconds
        let cpuAfter = cpuSeconds(of: target)
        let figures = Figures(
            target: target.name, endpoint: target.path, latenciesMS: outcome.latencies.sorted(),
            errors: outcome.errors, elapsed: elapsed,
            cpu: cpuAfter.reduce(into: [:]) { cpu, entry in
                if let before = cpuBefore[entry.key] { cpu[entry.key] = entry.value - before }
            }
        )
        log(
            "\(target.name): \(figures.completed) in \(String(format: "%.2f", elapsed)) s = \(Int(figures.rate))/s, "
                + "p50 \(String(format: "%.2f", figures.percentile(0.5))) ms, p99 \(String(format: "%.2f", figures.percentile(0.99))) ms, "
                + "errors \(figures.errorTotal)")
        return figures
    }

    private struct Outcome {
        var latencies: [Double] = []
        var errors: [String: Int] = [:]
    }

    private func load(_ client: HTTPClient, _ target: Target, prefix: String, total: Int, limit: Duration) async -> Outcome {
        let deadline = ContinuousClock.now + limit
        let next = Counter()
        return await withTaskGroup(of: Outcome.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var outcome = Outcome()
                    outcome.latencies.reserveCapacity(total / concurrency + 1)
                    while ContinuousClock.now < deadline {
                        let index = next.increment()
                        guard index < total else { break }
                        let request = target.request(id: "\(prefix)-\(index)")
                        let started = ContinuousClock.now
                        do {
                            let response = try await client.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            if response.status.code == target.expectedStatus {
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
            for await outcome in group {
                merged.latencies += outcome.latencies
                merged.errors.merge(outcome.errors, uniquingKeysWith: +)
            }
            return merged
        }
    }

    /// CPU seconds (user + system) used so far by this process and by the processes named with
    /// `--gateway-pid` / `--sandbox-pid`, read from /proc.
    private func cpuSeconds(of target: Target) -> [String: Double] {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        var cpu = [
            "bench_client": Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        ]
        if let gatewayPid, target.name == "gateway", let seconds = Self.procCPUSeconds(gatewayPid) { cpu["gateway"] = seconds }
        if let sandboxPid, let seconds = Self.procCPUSeconds(sandboxPid) { cpu["sandbox"] = seconds }
        return cpu
    }

    static func procCPUSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func log(_ line: String) {
        if !json { FileHandle.standardError.write(Data(("checkouts: " + line + "\n").utf8)) }
    }
}

// MARK: - Targets

/// One way of creating a checkout: the URL, headers and body of request number `id`.
private struct Target: Sendable {
    let name: String
    let path: String
    let url: String
    let headers: HTTPHeaders
    let expectedStatus: UInt
    let body: @Sendable (_ id: String) -> String

    func request(id: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.headers.add(name: "Idempotency-Key", value: "bench-\(id)")
        request.body = .bytes(ByteBuffer(string: body(id)))
        return request
    }

    /// Two lines of an order in CLP: 2 x 12,990 + 1 x 4,990 = 30,970.
    static let lines: [(sku: String, name: String, quantity: Int, unitAmount: Int)] = [
        ("SKU-TEE-001", "Polera algodón", 2, 12_990),
        ("SKU-MUG-002", "Taza cerámica", 1, 4_990),
    ]
    static let amount = lines.reduce(0) { $0 + $1.quantity * $1.unitAmount }
    static let successURL = "https://shop.example/checkout/success"
    static let cancelURL = "https://shop.example/checkout/cancel"

    /// The two metadata keys the gateway adds (FintocMapping.orderKey and .checkoutKey).
    @Sendable static func metadata(_ id: String) -> String {
        #""metadata":{"cobro_checkout_id":"chk_\#(id)","cobro_order_id":"ord-\#(id)"}"#
    }

    static func trimmed(_ base: String) -> String { BenchHTTP.trimmed(base) }

    /// The storefront's `POST /v1/checkouts`, each with a new order id and Idempotency-Key.
    static func gateway(base: String, key: String, ui: String) -> Target {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(key)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        let lineItems = lines.map {
            #"{"sku":"\#($0.sku)","name":"\#($0.name)","quantity":\#($0.quantity),"unit_amount":\#($0.unitAmount)}"#
        }.joined(separator: ",")
        return Target(
            name: "gateway", path: "POST /v1/checkouts", url: trimmed(base) + "/v1/checkouts", headers: headers, expectedStatus: 201
        ) { id in
            #"{"order_id":"ord-\#(id)","currency":"CLP","amount":\#(amount),"line_items":[\#(lineItems)],"#
                + #""customer":{"email":"buyer+\#(id)@example.com","name":"Bench Buyer"},"#
                + #""success_url":"\#(successURL)","cancel_url":"\#(cancelURL)","ui":"\#(ui)"}"#
        }
    }

    /// What the gateway sends Fintoc for the same checkout (Gateway/Checkout/FintocMapping.swift):
    /// the same fields, line items and the two metadata keys.
    static func sandbox(base: String, key: String, ui: String) -> Target {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: key)
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "cobro-fintoc-client/1")
        headers.add(name: "Content-Type", value: "application/json")
        switch ui {
        case "redirect":
            let lineItems = lines.map {
                #"{"price_data":{"currency":"CLP","product_data":{"name":"\#($0.name)"},"unit_amount":\#($0.unitAmount)},"quantity":\#($0.quantity)}"#
            }.joined(separator: ",")
            return Target(
                name: "sandbox", path: "POST /v2/checkout_sessions", url: trimmed(base) + "/v2/checkout_sessions", headers: headers,
                expectedStatus: 201
            ) { id in
                #"{"amount":\#(amount),"cancel_url":"\#(cancelURL)","currency":"CLP","#
                    + #""customer_data":{"email":"buyer+\#(id)@example.com","name":"Bench Buyer"},"#
                    + #""line_items":[\#(lineItems)],\#(metadata(id)),"success_url":"\#(successURL)"}"#
            }
        default:
            let path = ui == "widget" ? "/v1/checkout_sessions" : "/v1/payment_intents"
            return Target(name: "sandbox", path: "POST \(path)", url: trimmed(base) + path, headers: headers, expectedStatus: 201) { id in
                #"{"amount":\#(amount),"currency":"CLP","customer_email":"buyer+\#(id)@example.com",\#(metadata(id))}"#
            }
        }
    }
}

// MARK: - Figures

struct Figures {
    let target: String
    let endpoint: String
    /// Every successful request's latency in milliseconds, ascending.
    let latenciesMS: [Double]
    let errors: [String: Int]
    let elapsed: Double
    /// CPU seconds each process spent during the measurement.
    let cpu: [String: Double]

    var completed: Int { latenciesMS.count }
    var errorTotal: Int { errors.values.reduce(0, +) }
    var rate: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

    func percentile(_ q: Double) -> Double { nearestRank(latenciesMS, q) }

    var json: [String: Any] {
        var object: [String: Any] = [
            "endpoint": endpoint,
            "completed": completed,
            "errors": ["total": errorTotal, "by_status": errors],
            "elapsed_s": round3(elapsed),
            "per_s": (rate * 10).rounded() / 10,
            "latency_ms": [
                "p50": round3(percentile(0.50)), "p90": round3(percentile(0.90)), "p99": round3(percentile(0.99)),
                "max": round3(latenciesMS.last ?? 0), "min": round3(latenciesMS.first ?? 0),
                "mean": round3(latenciesMS.isEmpty ? 0 : latenciesMS.reduce(0, +) / Double(latenciesMS.count)),
            ],
        ]
        let attempts = completed + errorTotal
        if attempts > 0 {
            object["cpu_ms_per_request"] = cpu.mapValues { round3($0 * 1000 / Double(attempts)) }
        }
        return object
    }
}

func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Double { seconds * 1000 }
}
