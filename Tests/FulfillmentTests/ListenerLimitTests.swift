import AsyncHTTPClient
import CobroTestSupport
import Foundation
import Fulfillment
import HTTPServerLimits
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime
import Testing

/// Issue 14, part 3, on the worker's admin listener (health and metrics): slow clients are cut
/// off, the connection cap holds, and both show in its metrics. No broker needed.
@Suite("Worker listener limits")
struct WorkerListenerLimitTests {
    @Test("a trickling client is cut off after the request timeout; past the cap a connection gets 503; both are counted")
    func slowClientAndCap() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let port = try TestPorts.reserve()
        var configuration = WorkerConfiguration()
        configuration.port = port
        configuration.limits = HTTPServerLimits(requestTimeout: .milliseconds(1500), idleTimeout: .seconds(30), maxConnections: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-limits-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        configuration.database = .sqlite(path: directory.appendingPathComponent("fulfillment.sqlite").path)
        configuration.mailDirectory = directory.appendingPathComponent("mail").path
        configuration.amqpURL = "amqp://guest:guest@127.0.0.1:\(refusing.port)/"
        var logger = Logger(label: "worker-limits-test")
        logger.logLevel = .critical
        let group = ServiceGroup(
            configuration: .init(services: [try await buildApplication(configuration: configuration, logger: logger)], logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }

        var first: RawConnection?
        for _ in 0..<100 where first == nil {
            first = try? await RawConnection.open(port: port)
            if first == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let slow = try #require(first, "the worker never listened")
        await slow.send("GET /healthz HTTP/1.1\r\n")
        var sent = 0
        while sent < 12, !(try await slow.waitClosed(timeout: .seconds(1))) {
            await slow.send("X-Slow-\(sent): 1\r\n")
            sent += 1
        }
        #expect(!slow.isOpen, "still connected after \(sent) lines")
        #expect(slow.age < .seconds(10), "cut after \(slow.age)")

        // An answer on each kept-alive connection proves both were admitted before the extra.
        let held = [try await RawConnection.open(port: port), try await RawConnection.open(port: port)]
        for connection in held {
            await connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await connection.waitFor("HTTP/1.1 200", timeout: .seconds(10)), "\(connection.text)")
        }
        let extra = try await RawConnection.open(port: port)
        #expect(try await extra.waitClosed(timeout: .seconds(10)))
        #expect(extra.text.hasPrefix("HTTP/1.1 503"), "\(extra.text)")
        for connection in held { await connection.close() }

        // Until the server has seen the two close, a probe may itself be refused: count those.
        var metrics = ""
        var probesRefused = 0
        for _ in 0..<40 where !metrics.contains("worker_http_connections_refused_total") {
            let probe = try await RawConnection.open(port: port)
            await probe.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            _ = try await probe.waitClosed(timeout: .seconds(10))
            metrics = probe.text
            await probe.close()
            if metrics.hasPrefix("HTTP/1.1 503") { probesRefused += 1 }
            if !metrics.contains("worker_http_connections_refused_total") { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(metrics.contains(#"worker_http_connections_refused_total{listener="admin"} \#(1 + probesRefused)"#), "\(metrics)")
        #expect(metrics.contains(#"worker_http_request_timeouts_total{listener="admin"} 1"#))
        #expect(metrics.contains(#"worker_http_connections_open{listener="admin"}"#))
        await slow.close()
        await extra.close()
    }

    @Test("the limits come from WORKER_* variables, checked; the listener is on loopback by default")
    func variables() throws {
        let defaults = try WorkerConfiguration.fromEnvironment(EnvironmentReader([:]))
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.limits == HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 32))
        let set = try WorkerConfiguration.fromEnvironment(
            EnvironmentReader(["WORKER_REQUEST_TIMEOUT": "5", "WORKER_IDLE_TIMEOUT": "10", "WORKER_MAX_CONNECTIONS": "8"]))
        #expect(set.limits == HTTPServerLimits(requestTimeout: .seconds(5), idleTimeout: .seconds(10), maxConnections: 8))
        for (name, value) in [("WORKER_REQUEST_TIMEOUT", "-1"), ("WORKER_IDLE_TIMEOUT", "x"), ("WORKER_MAX_CONNECTIONS", "0")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") {
                try WorkerConfiguration.fromEnvironment(EnvironmentReader([name: value]))
            }
        }
    }
}
