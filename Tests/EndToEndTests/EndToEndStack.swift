import AsyncHTTPClient
import CobroTestSupport
import Foundation
import GRDB
import NIOCore
import NIOFoundationCompat
import Synchronization
import Testing

/// The whole product as real processes on loopback: `fintoc-sandbox` (its webhook endpoint
/// subscribed to the gateway), `payments-gateway` and `fulfillment-worker`, on a virtual host of
/// the test broker of their own, with SQLite files and mail in a fresh folder. Drills kill and
/// restart the processes; the checks read the SQLite files and the broker as they are.
final class EndToEndStack: Sendable {
    static let storefrontKey = "cbk_e2e_storefront_key_0001"
    /// The storefront the key belongs to: it names every order's events and emails.
    static let storefrontName = "e2e"
    static let webhookSecret = "whsec_e2e_secret_0001"

    struct Order: Sendable, Hashable {
        let id: String
        let checkoutID: String
        let providerID: String
        let lines: [String: Int]
    }

    let directory: URL
    let amqpURL: String
    let gatewayPort: Int
    /// The gateway's admin listener (/readyz, /metrics).
    let gatewayAdminPort: Int
    let workerPort: Int
    let sandboxPort: Int
    let smtpURL: String?
    private let processes = Mutex<[String: RunningExecutable]>([:])

    var gatewayDatabase: String { directory.appendingPathComponent("gateway.sqlite").path }
    var workerDatabase: String { directory.appendingPathComponent("fulfillment.sqlite").path }
    var mailDirectory: URL { directory.appendingPathComponent("mail") }

    /// Starts everything with `inventory` (sku → units on hand) loaded, and waits until ready.
    init(inventory: [String: Int], smtpURL: String? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("mail"), withIntermediateDirectories: true)
        amqpURL = try await BrokerFixture.virtualHost()
        gatewayPort = try TestPorts.reserve()
        gatewayAdminPort = try TestPorts.reserve()
        workerPort = try TestPorts.reserve()
        sandboxPort = try TestPorts.reserve()
        self.smtpURL = smtpURL
        let csv = directory.appendingPathComponent("inventory.csv")
        try
            ("sku,name,on_hand\n"
            + inventory.sorted { $0.key < $1.key }.map { "\($0.key),Producto \($0.key),\($0.value)" }.joined(separator: "\n") + "\n")
            .write(to: csv, atomically: true, encoding: .utf8)
        let imported = try await ExecutableRunner.run(
            "fulfillment-worker", ["inventory", "import", csv.path], environment: workerEnvironment)
        guard imported.status == 0 else { throw StartFailure(name: "inventory import", output: imported.output) }
        try await startSandbox()
        try await startWorker()
        try await startGateway()
    }

    struct StartFailure: Error, CustomStringConvertible {
        let name: String
        let output: String
        var description: String { "\(name) did not start:\n\(output.suffix(3000))" }
    }

    var workerEnvironment: [String: String] {
        var environment = [
            "WORKER_HOST": "127.0.0.1", "WORKER_PORT": "\(workerPort)", "WORKER_DATABASE": workerDatabase, "AMQP_URL": amqpURL,
            "MAIL_DIR": mailDirectory.path, "MAIL_RETRY_INITIAL": "0.2", "MAIL_RETRY_MAX": "1", "LOG_LEVEL": "warning",
        ]
        if let smtpURL { environment["SMTP_URL"] = smtpURL }
        return environment
    }

    var gatewayEnvironment: [String: String] {
        [
            "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": "\(gatewayPort)", "GATEWAY_ADMIN_PORT": "\(gatewayAdminPort)",
            "GATEWAY_DATABASE": gatewayDatabase, "AMQP_URL": amqpURL,
            "FINTOC_API_URL": "http://127.0.0.1:\(sandboxPort)", "STOREFRONT_API_KEYS": "\(Self.storefrontName):\(Self.storefrontKey)",
            "FINTOC_WEBHOOK_SECRETS": Self.webhookSecret, "GATEWAY_RECONCILE_INTERVAL": "0", "LOG_LEVEL": "warning",
        ]
    }

    func startSandbox() async throws {
        let sandbox = try RunningExecutable(
            "fintoc-sandbox", ["serve"],
            environment: [
                "SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": "\(sandboxPort)", "SANDBOX_PUBLIC_URL": "http://127.0.0.1:\(sandboxPort)",
                "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:\(gatewayPort)/webhooks/fintoc", "SANDBOX_WEBHOOK_SECRET": Self.webhookSecret,
                // Fintoc retries for days; the drills need the same behaviour in seconds.
                "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.2,0.4,0.8,1,1,1,2,2,2,2,3,3,3,3,3,3,3", "LOG_LEVEL": "warning",
            ])
        try await waitReady(sandbox, name: "fintoc-sandbox", url: "http://127.0.0.1:\(sandboxPort)/health")
        processes.withLock { $0["fintoc-sandbox"] = sandbox }
    }

    func startWorker() async throws {
        let worker = try RunningExecutable("fulfillment-worker", ["serve"], environment: workerEnvironment)
        try await waitReady(worker, name: "fulfillment-worker", url: "http://127.0.0.1:\(workerPort)/readyz")
        processes.withLock { $0["fulfillment-worker"] = worker }
    }

    func startGateway() async throws {
        let gateway = try RunningExecutable("payments-gateway", ["serve"], environment: gatewayEnvironment)
        try await waitReady(gateway, name: "payments-gateway", url: "http://127.0.0.1:\(gatewayAdminPort)/readyz")
        processes.withLock { $0["payments-gateway"] = gateway }
    }

    /// Sends `signal` to a process (SIGKILL for a crash) and waits for it to end.
    func stop(_ name: String, signal: Int32 = SIGTERM) async throws {
        guard let process = processes.withLock({ $0.removeValue(forKey: name) }) else { return }
        try await process.stop(signal: signal)
    }

    func stopAll() async {
        for name in ["payments-gateway", "fulfillment-worker", "fintoc-sandbox"] { try? await stop(name) }
        await BrokerFixture.deleteVirtualHost(of: amqpURL)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` on a fresh stack and always stops it.
    static func run(inventory: [String: Int], smtpURL: String? = nil, _ body: (EndToEndStack) async throws -> Void) async throws {
        let stack = try await EndToEndStack(inventory: inventory, smtpURL: smtpURL)
        do {
            try await body(stack)
        } catch {
            await stack.stopAll()
            throw error
        }
        await stack.stopAll()
    }

    private func waitReady(_ process: RunningExecutable, name: String, url: String) async throws {
        try await Self.waitReady(process, name: name, url: url)
    }

    /// Waits until `url` answers 200, for at most 60 s; stops the process and throws with its
    /// output when it exits or never gets ready.
    static func waitReady(_ process: RunningExecutable, name: String, url: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw StartFailure(name: name, output: process.output) }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await process.stop()
        throw StartFailure(name: name, output: process.output)
    }

    // MARK: - Acting as the storefront and the customer

    /// `POST /v1/checkouts` for `lines` (sku → quantity) at 10,000 CLP each.
    func checkout(_ orderID: String, ui: String = "payment_intent", lines: [String: Int]) async throws -> Order {
        try await Self.checkout(orderID, ui: ui, lines: lines, gatewayPort: gatewayPort)
    }

    /// `POST /v1/checkouts` to the gateway on `gatewayPort`, as the e2e storefront.
    static func checkout(_ orderID: String, ui: String, lines: [String: Int], gatewayPort: Int) async throws -> Order {
        let items = lines.sorted { $0.key < $1.key }.map {
            ["sku": $0.key, "name": "Producto \($0.key)", "quantity": $0.value, "unit_amount": 10_000] as [String: Any]
        }
        let body: [String: Any] = [
            "order_id": orderID, "currency": "CLP", "amount": lines.values.reduce(0, +) * 10_000, "ui": ui, "line_items": items,
            "customer": ["email": "\(orderID)@example.cl", "name": "Cliente"],
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/ko",
        ]
        let (status, json) = try await post(
            "http://127.0.0.1:\(gatewayPort)/v1/checkouts", body,
            headers: [
                "Authorization": "Bearer \(storefrontKey)", "Idempotency-Key": "e2e-\(orderID)",
            ])
        guard status == 201, let id = json["id"] as? String, let provider = json["provider_id"] as? String else {
            throw RequestFailure(what: "checkout \(orderID)", status: status, body: json)
        }
        return Order(id: orderID, checkoutID: id, providerID: provider, lines: lines)
    }

    /// The customer finishes paying (or not) at Fintoc: the sandbox's control endpoint.
    func complete(_ order: Order, _ outcome: String) async throws {
        try await Self.complete(order, outcome, sandboxPort: sandboxPort)
    }

    static func complete(_ order: Order, _ outcome: String, sandboxPort: Int) async throws {
        let (status, json) = try await post(
            "http://127.0.0.1:\(sandboxPort)/sandbox/complete", ["id": order.providerID, "outcome": outcome],
            headers: ["Authorization": "sk_test_sandbox"])
        guard status == 200 else { throw RequestFailure(what: "complete \(order.id) as \(outcome)", status: status, body: json) }
    }

    func expire(_ order: Order) async throws {
        let (status, json) = try await post(
            "http://127.0.0.1:\(gatewayPort)/v1/checkouts/\(order.checkoutID)/expire", [:],
            headers: [
                "Authorization": "Bearer \(Self.storefrontKey)", "Idempotency-Key": "e2e-expire-\(order.id)",
            ])
        guard status == 200 else { throw RequestFailure(what: "expire \(order.id)", status: status, body: json) }
    }

    /// Sets the sandbox's delivery faults (duplicate, shuffle, …).
    func setFaults(_ faults: [String: Any]) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/faults")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "sk_test_sandbox")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: faults)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw RequestFailure(what: "faults", status: Int(response.status.code), body: [:]) }
    }

    /// The sandbox's delivery log: how many webhook delivery attempts failed and succeeded.
    func deliveryAttempts() async throws -> (failed: Int, succeeded: Int) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/deliveries")
        request.headers.add(name: "Authorization", value: "sk_test_sandbox")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let attempts = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [[String: Any]]) ?? []
        let succeeded = attempts.filter { $0["succeeded"] as? Bool == true }.count
        return (attempts.count - succeeded, succeeded)
    }

    struct RequestFailure: Error, CustomStringConvertible {
        let what: String
        let status: Int
        let answer: String
        init(what: String, status: Int, body: [String: Any]) {
            self.what = what
            self.status = status
            answer = "\(body)"
        }
        var description: String { "\(what) answered \(status): \(answer)" }
    }

    private func post(_ url: String, _ body: [String: Any], headers: [String: String]) async throws -> (Int, [String: Any]) {
        try await Self.post(url, body, headers: headers)
    }

    /// POSTs `body` as JSON; the answer's status and JSON object.
    static func post(_ url: String, _ body: [String: Any], headers: [String: String]) async throws -> (Int, [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }
}
