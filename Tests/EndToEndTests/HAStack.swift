import AMQP
import AsyncHTTPClient
import CobroTestSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import PaymentsCore
import PostgresNIO
import Synchronization
import Testing

/// The product run highly available on loopback: two `payments-gateway` and two
/// `fulfillment-worker` processes, each service's replicas sharing one PostgreSQL database of its
/// own, the sandbox, and in front of the gateways a fan-out standing in for the load balancer
/// and for Fintoc's redeliveries: it hands each webhook to three gateways chosen at random (a
/// killed one refuses the connection) and answers 200 when one of them did. A queue of another
/// team is bound to `payments.events` from the start.
final class HAStack: Sendable {
    typealias Order = EndToEndStack.Order

    let directory: URL
    let amqpURL: String
    let gatewayDatabase: (name: String, url: String)
    let workerDatabase: (name: String, url: String)
    let sandboxPort: Int
    let fanoutPort: Int
    let gatewayPorts: [Int]
    let gatewayAdminPorts: [Int]
    let workerPorts: [Int]
    /// `payments.events` as a third-party queue sees it.
    let published: DeliveryBuffer
    private let observer: AMQPConnection
    private let fanout: Task<Void, any Error>
    private let processes = Mutex<[String: RunningExecutable]>([:])
    private let payments = Mutex(0)

    /// Orders paid at the sandbox so far (for a drill to show it struck mid-burst).
    var paidSoFar: Int { payments.withLock { $0 } }

    var mailDirectory: URL { directory.appendingPathComponent("mail") }

    init(inventory: [String: Int], replicas: Int = 2) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-ha-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("mail"), withIntermediateDirectories: true)
        amqpURL = try await BrokerFixture.virtualHost()
        gatewayDatabase = try await PostgresFixture.makeDatabaseURL()
        workerDatabase = try await PostgresFixture.makeDatabaseURL()
        sandboxPort = try TestPorts.reserve()
        fanoutPort = try TestPorts.reserve()
        gatewayPorts = try (0..<replicas).map { _ in try TestPorts.reserve() }
        gatewayAdminPorts = try (0..<replicas).map { _ in try TestPorts.reserve() }
        workerPorts = try (0..<replicas).map { _ in try TestPorts.reserve() }
        observer = try await AMQPConnection.connect(url: amqpURL, connectionName: "ha-third-party")
        let tap = try await BrokerFixture.tap(observer, exchange: PaymentsTopology.paymentsExchange)
        published = DeliveryBuffer(try await observer.consume(queue: tap, prefetch: 500))
        let app = Self.fanout(port: fanoutPort, gateways: gatewayPorts)
        fanout = Task { try await app.runService() }

        let csv = directory.appendingPathComponent("inventory.csv")
        try
            ("sku,name,on_hand\n"
            + inventory.sorted { $0.key < $1.key }.map { "\($0.key),Producto \($0.key),\($0.value)" }.joined(separator: "\n") + "\n")
            .write(to: csv, atomically: true, encoding: .utf8)
        let imported = try await ExecutableRunner.run(
            "fulfillment-worker", ["inventory", "import", csv.path], environment: workerEnvironment(0))
        guard imported.status == 0 else { throw EndToEndStack.StartFailure(name: "inventory import", output: imported.output) }
        try await startSandbox()
        for replica in 0..<replicas {
            try await startWorker(replica)
            try await startGateway(replica)
        }
    }

    /// The load balancer's part: each webhook to three gateways chosen at random.
    static func fanout(port: Int, gateways: [Int]) -> some ApplicationProtocol {
        let router = Router()
        router.post("/webhooks/fintoc") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers[.init("Fintoc-Signature")!] ?? ""
            var delivered = false
            for _ in 0..<3 {
                var forward = HTTPClientRequest(url: "http://127.0.0.1:\(gateways.randomElement()!)/webhooks/fintoc")
                forward.method = .POST
                forward.headers.add(name: "Content-Type", value: "application/json")
                forward.headers.add(name: "Fintoc-Signature", value: signature)
                forward.body = .bytes(body)
                if let response = try? await HTTPClient.shared.execute(forward, timeout: .seconds(30)) {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    delivered = delivered || response.status == .ok
                }
            }
            return Response(status: delivered ? .ok : .serviceUnavailable)
        }
        var logger = Logger(label: "ha-fanout")
        logger.logLevel = .warning
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    }

    func workerEnvironment(_ replica: Int) -> [String: String] {
        [
            "WORKER_HOST": "127.0.0.1", "WORKER_PORT": "\(workerPorts[replica])", "WORKER_DATABASE_URL": workerDatabase.url,
            "WORKER_DATABASE_MAX_CONNECTIONS": "4", "AMQP_URL": amqpURL, "MAIL_DIR": mailDirectory.path, "MAIL_RETRY_INITIAL": "0.2",
            "MAIL_RETRY_MAX": "1", "LOG_LEVEL": "warning",
        ]
    }

    func startSandbox() async throws {
        let sandbox = try RunningExecutable(
            "fintoc-sandbox", ["serve"],
            environment: [
                "SANDBOX_HOST": "127.0.0.1", "SANDBOX_PORT": "\(sandboxPort)", "SANDBOX_PUBLIC_URL": "http://127.0.0.1:\(sandboxPort)",
                "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:\(fanoutPort)/webhooks/fintoc",
                "SANDBOX_WEBHOOK_SECRET": EndToEndStack.webhookSecret,
                "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.2,0.4,0.8,1,1,1,2,2,2,2,3,3,3,3,3,3,3", "LOG_LEVEL": "warning",
            ])
        try await EndToEndStack.waitReady(sandbox, name: "fintoc-sandbox", url: "http://127.0.0.1:\(sandboxPort)/health")
        processes.withLock { $0["fintoc-sandbox"] = sandbox }
    }

    func startWorker(_ replica: Int) async throws {
        let worker = try RunningExecutable("fulfillment-worker", ["serve"], environment: workerEnvironment(replica))
        try await EndToEndStack.waitReady(
            worker, name: "fulfillment-worker \(replica)", url: "http://127.0.0.1:\(workerPorts[replica])/readyz")
        processes.withLock { $0["worker-\(replica)"] = worker }
    }

    func startGateway(_ replica: Int) async throws {
        let gateway = try RunningExecutable(
            "payments-gateway", ["serve"],
            environment: [
                "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": "\(gatewayPorts[replica])",
                "GATEWAY_ADMIN_PORT": "\(gatewayAdminPorts[replica])", "GATEWAY_DATABASE_URL": gatewayDatabase.url,
                "GATEWAY_DATABASE_MAX_CONNECTIONS": "4", "AMQP_URL": amqpURL, "FINTOC_API_URL": "http://127.0.0.1:\(sandboxPort)",
                "STOREFRONT_API_KEYS": "\(EndToEndStack.storefrontName):\(EndToEndStack.storefrontKey)",
                "FINTOC_WEBHOOK_SECRETS": EndToEndStack.webhookSecret, "GATEWAY_RECONCILE_INTERVAL": "0", "LOG_LEVEL": "warning",
            ])
        try await EndToEndStack.waitReady(
            gateway, name: "payments-gateway \(replica)", url: "http://127.0.0.1:\(gatewayAdminPorts[replica])/readyz")
        processes.withLock { $0["gateway-\(replica)"] = gateway }
    }

    /// Sends `signal` to a process (`gateway-0`, `worker-1`, …) and waits for it to end.
    func stop(_ name: String, signal: Int32 = SIGTERM) async throws {
        guard let process = processes.withLock({ $0.removeValue(forKey: name) }) else { return }
        try await process.stop(signal: signal)
    }

    func stopAll() async {
        for name in processes.withLock({ Array($0.keys) }).sorted() { try? await stop(name) }
        fanout.cancel()
        _ = try? await fanout.value
        published.stop()
        await observer.close()
        await BrokerFixture.deleteVirtualHost(of: amqpURL)
        await PostgresFixture.dropDatabase(gatewayDatabase.name)
        await PostgresFixture.dropDatabase(workerDatabase.name)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` on a fresh stack and always stops it.
    static func run(inventory: [String: Int], _ body: (HAStack) async throws -> Void) async throws {
        let stack = try await HAStack(inventory: inventory)
        do {
            try await body(stack)
        } catch {
            await stack.stopAll()
            throw error
        }
        await stack.stopAll()
    }

    /// Makes `count` checkouts (ui styles in turn, `lines(index)` each), each through a gateway
    /// chosen in turn, `concurrency` at a time.
    func checkouts(prefix: String, count: Int, lines: @escaping @Sendable (Int) -> [String: Int], concurrency: Int = 16) async throws
        -> [Order]
    {
        let gateways = gatewayPorts
        return try await concurrently(Array(0..<count), concurrency: concurrency) { index in
            try await EndToEndStack.checkout(
                "\(prefix)-\(index)", ui: ["redirect", "widget", "payment_intent"][index % 3], lines: lines(index),
                gatewayPort: gateways[index % gateways.count])
        }.sorted { $0.id < $1.id }
    }

    /// Pays every order at the sandbox, `concurrency` at a time, while `during` runs.
    func pay(_ orders: [Order], concurrency: Int = 16, during: (@Sendable () async throws -> Void)? = nil) async throws {
        let sandbox = sandboxPort
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let during { group.addTask { try await during() } }
            group.addTask {
                _ = try await self.concurrently(orders, concurrency: concurrency) { order in
                    try await EndToEndStack.complete(order, "succeeded", sandboxPort: sandbox)
                    self.payments.withLock { $0 += 1 }
                }
            }
            try await group.waitForAll()
        }
    }

    private func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: Result.self) { group in
            var results: [Result] = []
            var next = 0
            func add() {
                guard next < items.count else { return }
                let item = items[next]
                next += 1
                group.addTask { try await body(item) }
            }
            for _ in 0..<concurrency { add() }
            while let result = try await group.next() {
                results.append(result)
                add()
            }
            return results
        }
    }
}
