import AsyncHTTPClient
import Fintoc
import Foundation
import Testing

/// The thin `fintoc-sandbox` executable as an operator runs it: `--help` lists every variable,
/// bad configuration stops it with the variable named, SIGTERM shuts it down gracefully, and
/// `trigger` sends one signed event.
@Suite struct ExecutableTests {
    /// The executable beside the test bundle (`swift build --build-tests` builds both).
    static var executable: URL? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("fintoc-sandbox")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    struct Run {
        var status: Int32
        var output: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20), whileRunning: ((Process) async throws -> Void)? = nil) async throws -> Run {
        let process = Process()
        guard let executable else {
            Issue.record("fintoc-sandbox was not built beside the tests; run swift build --build-tests")
            return Run(status: -1, output: "")
        }
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fintoc-sandbox-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if let whileRunning { try await whileRunning(process) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning && clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("fintoc-sandbox \(arguments) did not end within \(timeout)")
        }
        try handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        return Run(status: process.terminationStatus, output: text)
    }

    @Test func helpListsEveryVariableWithItsDefault() async throws {
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for name in ["SANDBOX_HOST", "SANDBOX_PORT", "SANDBOX_SECRET_KEY", "SANDBOX_PUBLIC_KEY", "SANDBOX_PUBLIC_URL", "SANDBOX_WEBHOOK_URL", "SANDBOX_WEBHOOK_SECRET", "SANDBOX_SESSION_LIFETIME", "SANDBOX_TOKEN_LIFETIME", "SANDBOX_WEBHOOK_RETRY_SCHEDULE", "SANDBOX_WEBHOOK_TIMEOUT"] {
            #expect(help.output.contains(name), "\(name) missing from --help")
        }
        #expect(help.output.contains("default: 8090"))
        let trigger = try await Self.run(["trigger", "--help"])
        #expect(trigger.output.contains("--forward-to"))
    }

    @Test func badConfigurationStopsWithThePreciseVariable() async throws {
        let run = try await Self.run([], environment: ["SANDBOX_PORT": "eighty"])
        #expect(run.status != 0)
        #expect(run.output.contains("SANDBOX_PORT"), "\(run.output)")
    }

    @Test func servesAndShutsDownGracefullyOnSIGTERM() async throws {
        let port = try await reserveFreePort()
        let run = try await Self.run(["serve"], environment: ["SANDBOX_PORT": "\(port)", "LOG_LEVEL": "info"], timeout: .seconds(10)) { process in
            try await eventually(timeout: .seconds(10), "the sandbox to answer") {
                let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(1))
                return response?.status == .ok
            }
            process.terminate()  // SIGTERM
        }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("fintoc-sandbox listening"))
    }

    @Test func triggerSendsOneSignedEventAndFailsWhenNobodyListens() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            let sent = try await Self.run(["trigger", "checkout_session.finished", "--forward-to", url, "--secret", "whsec_cli"])
            #expect(sent.status == 0, "\(sent.output)")
            #expect(sent.output.contains("checkout_session.finished evt_"))
            #expect(sent.output.contains(": 200"))
            let item = try #require(receiver.received.first)
            #expect(throws: Never.self) { try WebhookVerifier(secrets: ["whsec_cli"]).verify(body: item.body, header: item.signature) }
            #expect(try item.event?.checkoutSession()?.paymentResource?.paymentIntent?.status == .succeeded)
        }
        let failed = try await Self.run(["trigger", "payment_intent.failed", "--forward-to", "http://127.0.0.1:1/x", "--secret", "s", "--timeout", "1"])
        #expect(failed.status != 0)
        let unknown = try await Self.run(["trigger", "charge.succeeded", "--forward-to", "http://127.0.0.1:1/x", "--secret", "s"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("unknown event type"))
    }
}
