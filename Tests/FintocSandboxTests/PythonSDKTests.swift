import CobroTestSupport
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The official Python SDK (`fintoc` on PyPI) against a running sandbox, with nothing changed
/// but its base URL: Python/sdk_check.py drives sessions (v1, v2), intents, webhook endpoints,
/// refunds and `WebhookSignature.verify_header` on a delivered webhook.
@Suite struct PythonSDKTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/sdk_check.py")

    /// The checkout's private Python (`scripts/python`, built by `scripts/deps` from the pinned
    /// `scripts/requirements.txt`), never the machine's: a module missing from the requirements
    /// fails here on every machine.
    static let interpreter = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/python").standardizedFileURL

    /// Runs `scripts/python arguments…` with `environment` added (secrets go there, never in the
    /// arguments), answering its exit status and output; bounded by `timeout`.
    static func python(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> (
        status: Int32, output: String
    ) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-python-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = try ChildProcess(
            interpreter, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, output: log)
        if try await !process.wait(timeout: timeout) {
            process.signal(SIGKILL)
            process.waitUntilExit()
            return (-1, "timed out after \(timeout)")
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }

    @Test func theOfficialPythonSDKWorksAgainstTheSandbox() async throws {
        let probe = try await Self.python(["-c", "import fintoc, httpx"])
        try #require(probe.status == 0, "The official SDK is not in the checkout's Python environment; run scripts/deps.\n\(probe.output)")
        try await withSandbox(testConfiguration(settleDelay: 60)) { client, _ in
            let port = try #require(client.port)
            let result = try await Self.python(
                [Self.script.path, "http://127.0.0.1:\(port)"], environment: ["SANDBOX_SECRET_KEY": secretKey])
            #expect(result.status == 0, "sdk_check.py failed:\n\(result.output)")
            #expect(result.output.contains("SDK OK"), "\(result.output)")
        }
    }
}
