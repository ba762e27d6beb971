import AsyncHTTPClient
import Fintoc
import FintocSandbox
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import PaymentsCore
import ServiceLifecycle
import Synchronization
import Testing

typealias HeaderName = HTTPFields.Element.Name

let secretKey = "sk_test_sandbox"

/// A configuration for tests: a free port, short lifetimes and a fast retry schedule, so the
/// whole suite stays well under a minute.
func testConfiguration(
    retrySchedule: [TimeInterval] = [0.2, 0.3, 0.5, 0.8],
    sessionLifetime: TimeInterval = 3600,
    tokenLifetime: TimeInterval = 600,
    settleDelay: TimeInterval = 0.3,
    webhookTimeout: TimeInterval = 2,
    bootstrap: SandboxConfiguration.BootstrapWebhook? = nil
) -> SandboxConfiguration {
    SandboxConfiguration(
        host: "127.0.0.1", port: 0, publicURL: "http://127.0.0.1:8090", bootstrapWebhook: bootstrap, sessionLifetime: sessionLifetime,
        tokenLifetime: tokenLifetime, retrySchedule: retrySchedule, webhookTimeout: webhookTimeout, sweepInterval: 0.05,
        settleDelay: settleDelay
    )
}

/// Runs a real sandbox on a free loopback port for the duration of `test`.
func withSandbox<Value: Sendable>(
    _ configuration: SandboxConfiguration = testConfiguration(),
    _ test: @Sendable (any TestClientProtocol, SandboxStore) async throws -> Value
) async throws -> Value {
    var logger = Logger(label: "fintoc-sandbox-test")
    logger.logLevel = .warning
    let sandbox = Sandbox(configuration: configuration, logger: logger)
    let app = buildApplication(sandbox: sandbox)
    return try await app.test(.live) { client in try await test(client, sandbox.store) }
}

extension TestClientProtocol {
    /// An API call with the secret key (or `key`), a JSON body and extra headers.
    func api(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, key: String? = secretKey, idempotencyKey: String? = nil)
        async throws -> TestResponse
    {
        var headers = HTTPFields()
        if let key { headers[.authorization] = key }
        if let idempotencyKey { headers[HeaderName("Idempotency-Key")!] = idempotencyKey }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// A form post, as a browser sends it from the customer's pages.
    func form(_ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(
            separator: "&")
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func createSessionV2(amount: Int64 = 350_000, currency: String = "CLP") async throws -> JSONValue {
        let response = try await api(
            .post, "/v2/checkout_sessions",
            json:
                #"{"amount": \#(amount), "currency": "\#(currency)", "success_url": "https://merchant.example/success?session={CHECKOUT_SESSION_ID}", "cancel_url": "https://merchant.example/cancel", "metadata": {"order": "o-1"}}"#
        )
        #expect(response.status == .created)
        return try response.json()
    }

    func createIntent(amount: Int64 = 1000, currency: String = "CLP") async throws -> JSONValue {
        let response = try await api(.post, "/v1/payment_intents", json: #"{"amount": \#(amount), "currency": "\#(currency)"}"#)
        #expect(response.status == .created)
        return try response.json()
    }

    func complete(_ id: String, _ outcome: String, errorReason: String? = nil) async throws -> TestResponse {
        let reason = errorReason.map { #", "error_reason": "\#($0)""# } ?? ""
        return try await api(.post, "/sandbox/complete", json: #"{"id": "\#(id)", "outcome": "\#(outcome)"\#(reason)}"#)
    }

    func createEndpoint(url: String, events: [String] = ["*"]) async throws -> (id: String, secret: String) {
        let list = events.map { "\"\($0)\"" }.joined(separator: ",")
        let response = try await api(.post, "/v1/webhook_endpoints", json: #"{"url": "\#(url)", "enabled_events": [\#(list)]}"#)
        #expect(response.status == .created)
        let json = try response.json()
        return (json["id"]!.stringValue!, json["secret"]!.stringValue!)
    }

    func setFaults(_ json: String) async throws {
        let response = try await api(.put, "/sandbox/faults", json: json)
        #expect(response.status == .ok, "faults refused: \(String(buffer: response.body))")
    }
}

extension TestResponse {
    func json() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: body).utf8))
    }

    var text: String { String(buffer: body) }

    /// The error envelope's `error` object.
    func error() throws -> JSONValue? { try json()["error"] }

    func header(_ name: String) -> String? { headers[HeaderName(name)!] }
}

extension JSONValue {
    var string: String? { stringValue }
    var int: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }
    var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; never sleeps unbounded.
func eventually(timeout: Duration = .seconds(5), _ what: String, _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for \(what)")
}

/// Events of one object emitted so far, oldest first.
func events(of id: String, in store: SandboxStore) async -> [Event] {
    await store.allEvents().filter { $0.data["id"]?.stringValue == id }
}

/// A webhook receiver on a loopback port: records every request and answers what `respond`
/// says for the n-th request (1-based).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var body: Data
        var signature: String?
        var contentType: String?
        var event: Event? { try? FintocJSON.decoder().decode(Event.self, from: body) }
    }

    private let state = Mutex<[Received]>([])
    let respond: @Sendable (Int) -> HTTPResponse.Status

    init(respond: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .ok }) {
        self.respond = respond
    }

    var received: [Received] { state.withLock { $0 } }
    var events: [Event] { received.compactMap(\.event) }

    fileprivate func record(_ item: Received) -> Int {
        state.withLock {
            $0.append(item)
            return $0.count
        }
    }

    /// Runs the receiver on `port` (0 = any free one) while `body` runs; `body` gets the URL.
    func run<Value: Sendable>(port: Int = 0, _ body: @Sendable (String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.post("webhooks/fintoc") { request, _ -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let count = self.record(
                Received(
                    body: Data(buffer: bytes), signature: request.headers[HeaderName("Fintoc-Signature")!],
                    contentType: request.headers[.contentType]))
            return Response(status: self.respond(count))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let bound = await iterator.next() ?? port
            do {
                let value = try await body("http://127.0.0.1:\(bound)/webhooks/fintoc")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
