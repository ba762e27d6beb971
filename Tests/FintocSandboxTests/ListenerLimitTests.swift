import CobroTestSupport
import FintocSandbox
import Foundation
import HTTPServerLimits
import HummingbirdTesting
import PaymentsCore
import ServiceRuntime
import Testing

/// Issue 14, part 3, on the sandbox's listener: slow clients are cut off and the connection cap
/// holds. Every wait is bounded.
@Suite("Sandbox listener limits")
struct ListenerLimitTests {
    @Test("a client trickling its headers is cut off after the request timeout; past the cap a connection gets 503")
    func slowClientAndCap() async throws {
        let limits = HTTPServerLimits(requestTimeout: .milliseconds(1500), idleTimeout: .seconds(30), maxConnections: 2)
        let app = try await buildApplication(configuration: SandboxConfiguration(host: "127.0.0.1", port: 0, limits: limits))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // The live test client holds one connection; the trickler takes the other slot.
            let slow = try await RawConnection.open(port: port)
            await slow.send("GET /health HTTP/1.1\r\n")
            var sent = 0
            while sent < 12, !(try await slow.waitClosed(timeout: .seconds(1))) {
                await slow.send("X-Slow-\(sent): 1\r\n")
                sent += 1
            }
            #expect(!slow.isOpen, "still connected after \(sent) lines")
            #expect(slow.age >= .seconds(1) && slow.age < .seconds(10), "cut after \(slow.age)")

            // An answer on the kept-alive connection proves it was admitted before the extra.
            let admitted = try await RawConnection.open(port: port)
            await admitted.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await admitted.waitFor("HTTP/1.1 200", timeout: .seconds(10)), "\(admitted.text)")
            let extra = try await RawConnection.open(port: port)
            #expect(try await extra.waitClosed(timeout: .seconds(10)))
            #expect(extra.text.hasPrefix("HTTP/1.1 503"), "\(extra.text)")
            #expect(admitted.isOpen, "the admitted connection is untouched")
            await admitted.close()
            await extra.close()
            await slow.close()
        }
    }

    @Test("the limits come from SANDBOX_* variables, checked")
    func variables() throws {
        let configuration = try SandboxConfiguration(environment: [
            "SANDBOX_REQUEST_TIMEOUT": "3", "SANDBOX_IDLE_TIMEOUT": "20", "SANDBOX_MAX_CONNECTIONS": "64",
        ])
        #expect(configuration.limits == HTTPServerLimits(requestTimeout: .seconds(3), idleTimeout: .seconds(20), maxConnections: 64))
        #expect(
            try SandboxConfiguration(environment: [:]).limits
                == HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 512))
        for (name, value) in [
            ("SANDBOX_REQUEST_TIMEOUT", "0"), ("SANDBOX_IDLE_TIMEOUT", "7200"), ("SANDBOX_MAX_CONNECTIONS", "none"),
            ("SANDBOX_MAX_CONNECTIONS", "0"),
        ] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try SandboxConfiguration(environment: [name: value]) }
        }
    }
}
