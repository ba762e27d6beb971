import CobroTestSupport
import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import PaymentsCore
import ServiceRuntime
import Synchronization
import Testing

/// Issue 14, parts 2 and 3, against the real gateway on real ports: the admin endpoints are off
/// the public port, slow and idle clients are cut off, and the connection cap holds. Every wait
/// is bounded in count and time.
@Suite("Security: listeners and slow clients")
struct SecurityListenerTests {
    /// A gateway with `adjust`ed limits; `body` gets the public port.
    static func run(
        logger: Logger? = nil, adjust: (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (GatewayConfiguration, Int, any TestClientProtocol) async throws -> Void
    ) async throws {
        var configuration = GatewayFixture.configuration()
        adjust(&configuration)
        let fixed = configuration
        var quiet = Logger(label: "gateway-under-test")
        quiet.logLevel = .warning
        let app = try await buildApplication(configuration: fixed, logger: logger ?? quiet)
        try await app.test(.live) { client in
            try await body(fixed, try #require(client.port), client)
        }
    }

    static func metric(_ configuration: GatewayConfiguration, _ line: String) async throws -> Double? {
        let text = try await AdminListener.metrics(configuration)
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test("/metrics and /readyz are 404 on the public port and served on the admin one; /healthz on both")
    func adminEndpointsOffThePublicPort() async throws {
        try await Self.run { configuration, _, client in
            for path in ["/metrics", "/readyz", "/metrics/", "/readyz?x=1"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .notFound, "\(path) on the public port")
                #expect(!String(buffer: response.body).contains("gateway_"), "\(path) leaks metrics")
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)

            let admin = configuration.adminPort
            let metrics = try await AdminListener.get("/metrics", port: admin)
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"gateway_http_connections_open{listener="public"}"#))
            #expect(metrics.body.contains(#"gateway_http_connections_refused_total{listener="public"} 0"#))
            let ready = try await AdminListener.get("/readyz", port: admin)
            #expect([200, 503].contains(ready.status))
            #expect(ready.body.contains(#""database":"ok""#))
            #expect(try await AdminListener.get("/healthz", port: admin).status == 200)
            // The admin listener serves nothing else.
            #expect(try await AdminListener.get("/v1/checkouts/chk_1", port: admin).status == 404)
            #expect(try await AdminListener.get("/readyz", port: admin, method: .POST).status == 405)
        }
    }

    @Test("the admin listener is on loopback by default and its variables are checked")
    func adminConfiguration() throws {
        let defaults = try GatewayConfiguration.fromEnvironment(EnvironmentReader([:]))
        #expect(defaults.adminHost == "127.0.0.1")
        #expect(defaults.adminPort == 9080)
        #expect(defaults.limits == .init(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 512))
        #expect(defaults.adminLimits.maxConnections == 32)
        let names = Set(GatewayConfiguration.variables.map(\.name))
        for name in [
            "GATEWAY_ADMIN_HOST", "GATEWAY_ADMIN_PORT", "GATEWAY_REQUEST_TIMEOUT", "GATEWAY_IDLE_TIMEOUT", "GATEWAY_MAX_CONNECTIONS",
            "GATEWAY_ADMIN_MAX_CONNECTIONS",
        ] {
            #expect(names.contains(name))
        }
        let set = try GatewayConfiguration.fromEnvironment(
            EnvironmentReader([
                "GATEWAY_ADMIN_PORT": "0", "GATEWAY_REQUEST_TIMEOUT": "2.5", "GATEWAY_IDLE_TIMEOUT": "30", "GATEWAY_MAX_CONNECTIONS": "100",
            ]))
        #expect(set.adminPort == 0)
        #expect(set.limits == .init(requestTimeout: .milliseconds(2500), idleTimeout: .seconds(30), maxConnections: 100))
        for (name, value, reason) in [
            ("GATEWAY_ADMIN_PORT", "8080", "must differ from GATEWAY_PORT"),
            ("GATEWAY_ADMIN_PORT", "70000", "between 0 and 65535"),
            ("GATEWAY_REQUEST_TIMEOUT", "0", "between 0.1 and 3600"),
            ("GATEWAY_IDLE_TIMEOUT", "soon", "not a number of seconds"),
            ("GATEWAY_MAX_CONNECTIONS", "0", "between 1 and 100000"),
            ("GATEWAY_ADMIN_MAX_CONNECTIONS", "lots", "not a whole number"),
        ] {
            #expect {
                try GatewayConfiguration.fromEnvironment(EnvironmentReader([name: value]))
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix(name) && text.contains(reason)
            }
        }
    }

    @Test("slow headers and a slow body are cut off after the request timeout while a normal request is answered")
    func slowClientsCutOff() async throws {
        try await Self.run(adjust: { $0.limits.requestTimeout = .seconds(2) }) { configuration, port, client in
            // One header line a second, and a body one byte a second: both stop being read at 2 s.
            async let slowHead: Duration? = Self.trickle(
                port: port, first: "POST /webhooks/fintoc HTTP/1.1\r\n", then: { "X-Slow-\($0): 1\r\n" })
            async let slowBody: Duration? = Self.trickle(
                port: port,
                first: "POST /webhooks/fintoc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
                then: { _ in "{" }
            )
            // Meanwhile a normal request is answered, well before the slow ones give up (the
            // bound is loose: the machine may be busy with other tests).
            try await Task.sleep(for: .milliseconds(500))
            let started = ContinuousClock.now
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(ContinuousClock.now - started < .seconds(5))

            let (head, body) = try await (slowHead, slowBody)
            for (name, closedAfter) in [("headers", head), ("body", body)] {
                let closedAfter = try #require(closedAfter, "slow \(name) still connected after 12 s")
                // Never before the limit; after it as soon as the (possibly busy) loop gets to it.
                #expect(closedAfter >= .milliseconds(1500) && closedAfter < .seconds(10), "slow \(name) cut after \(closedAfter)")
            }
            #expect(try await Self.metric(configuration, #"gateway_http_request_timeouts_total{listener="public"}"#) == 2)
        }
    }

    /// Sends `first`, then `then(n)` every second, at most 12 times; how long after the first
    /// byte the server closed the connection, or nil if it never did.
    static func trickle(port: Int, first: String, then next: @Sendable (Int) -> String) async throws -> Duration? {
        let connection = try await RawConnection.open(port: port)
        defer { Task { await connection.close() } }
        let started = ContinuousClock.now
        guard await connection.send(first) else { return .zero }
        for line in 0..<12 {
            if try await connection.waitClosed(timeout: .seconds(1)) { return ContinuousClock.now - started }
            guard await connection.send(next(line)) else { return ContinuousClock.now - started }
        }
        return nil
    }

    @Test("a kept-alive connection, and one that never sends a byte, are closed after the idle timeout")
    func idleConnectionsClosed() async throws {
        // 3 s of idleness, and waits far longer than that: on a loaded 2-core machine the first
        // answer alone has taken more than 5 s. The bounds below scale with the timeout.
        let idle = Duration.seconds(3)
        try await Self.run(adjust: { $0.limits.idleTimeout = idle }) { _, port, _ in
            let kept = try await RawConnection.open(port: port)
            let silent = try await RawConnection.open(port: port)
            // Measured from the request, not from when this client saw the answer: on a busy
            // machine the answer is read late, and the server's idle clock started before that.
            let answered = ContinuousClock.now
            await kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await kept.waitFor(#"{"status":"ok"}"#, timeout: .seconds(20)), "\(kept.text)")
            #expect(kept.text.hasPrefix("HTTP/1.1 200"))
            #expect(kept.isOpen, "kept alive after the answer")
            #expect(try await kept.waitClosed(timeout: idle * 8), "the idle kept-alive connection is closed")
            let idleFor = ContinuousClock.now - answered
            #expect(idleFor >= idle * 2 / 3 && idleFor < idle * 7, "closed after \(idleFor) idle")
            #expect(try await silent.waitClosed(timeout: idle * 8), "a connection that never sent a byte is closed")
            #expect(silent.age >= idle * 2 / 3, "not before the idle timeout")
            await kept.close()
            await silent.close()
        }
    }

    @Test("the connection cap holds: extras get 503 and are closed, counted and logged once; a slot freed serves again")
    func connectionCap() async throws {
        let log = CapturedLog()
        var logger = Logger(label: "gateway-under-test") { _ in CapturingLogHandler(log: log) }
        logger.logLevel = .warning
        let cap = 4
        try await Self.run(logger: logger, adjust: { $0.limits.maxConnections = cap }) { configuration, port, client in
            // The live test client holds one connection of its own (made in the background:
            // one request makes sure it is there before counting).
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let gauge = #"gateway_http_connections_open{listener="public"}"#
            let base = Int(try #require(try await Self.metric(configuration, gauge)))
            #expect(base == 1)
            var admitted: [RawConnection] = []
            for _ in 0..<(cap - base) {
                let connection = try await RawConnection.open(port: port)
                admitted.append(connection)
            }
            // The server counts a connection once it accepts it: wait (bounded) until all are in.
            var open = 0.0
            for _ in 0..<200 where open < Double(cap) {
                open = try await Self.metric(configuration, gauge) ?? 0
                if open < Double(cap) { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(open == Double(cap))

            let extras = 3
            for _ in 0..<extras {
                let extra = try await RawConnection.open(port: port)
                #expect(try await extra.waitClosed(timeout: .seconds(10)), "an extra connection is closed")
                #expect(extra.text.hasPrefix("HTTP/1.1 503 Service Unavailable"), "\(extra.text)")
                #expect(extra.text.contains("too_many_connections"))
                await extra.close()
            }
            for connection in admitted { #expect(connection.isOpen, "admitted connections are untouched") }
            #expect(try await Self.metric(configuration, #"gateway_http_connections_refused_total{listener="public"}"#) == Double(extras))
            #expect(log.messages.filter { $0.contains("connection limit reached") }.count == 1, "\(log.messages)")

            // Two freed: a normal request is served again.
            for connection in admitted.prefix(2) { await connection.close() }
            var served = false
            for _ in 0..<40 where !served {
                let probe = try await RawConnection.open(port: port)
                await probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                _ = try await probe.waitClosed(timeout: .seconds(3))
                served = probe.text.hasPrefix("HTTP/1.1 200")
                await probe.close()
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
            for connection in admitted { await connection.close() }
        }
    }
}

/// Log lines kept for assertions.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    var messages: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        log.append("\(event.level) \(event.message)")
    }
}
