import AsyncHTTPClient
import CobroTestSupport
import Fintoc
import FintocSandbox
import Foundation
import PaymentsCore
import ServiceRuntime
import Testing

/// The thin `fintoc-sandbox` executable as an operator runs it: `--help` lists every variable,
/// bad configuration stops it with the variable named, SIGTERM shuts it down gracefully, and
/// `trigger` sends one signed event.
@Suite struct ExecutableTests {
    typealias Run = ExecutableRunner.Run

    static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20),
        whileRunning: ((ChildProcess) async throws -> Void)? = nil
    ) async throws -> Run {
        let run = try await ExecutableRunner.run(
            "fintoc-sandbox", arguments, environment: environment, timeout: timeout, whileRunning: whileRunning)
        if run.timedOut { Issue.record("fintoc-sandbox \(arguments) did not end within \(timeout)") }
        return run
    }

    @Test func helpListsEveryVariableWithItsDefault() async throws {
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for name in [
            "SANDBOX_HOST", "SANDBOX_PORT", "SANDBOX_SECRET_KEY", "SANDBOX_PUBLIC_KEY", "SANDBOX_PUBLIC_URL", "SANDBOX_WEBHOOK_URL",
            "SANDBOX_WEBHOOK_SECRET", "SANDBOX_SESSION_LIFETIME", "SANDBOX_TOKEN_LIFETIME", "SANDBOX_WEBHOOK_RETRY_SCHEDULE",
            "SANDBOX_WEBHOOK_TIMEOUT",
        ] {
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
        // Released just before the process binds it, so no other test's server takes it meanwhile.
        let reserved = try RefusingPort()
        let port = reserved.port
        reserved.release()
        let run = try await Self.run(["serve"], environment: ["SANDBOX_PORT": "\(port)", "LOG_LEVEL": "info"], timeout: .seconds(10)) {
            process in
            try await eventually(timeout: .seconds(10), "the sandbox to answer") {
                let response = try? await HTTPClient.shared.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(1))
                return response?.status == .ok
            }
            process.signal(SIGTERM)
        }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("fintoc-sandbox listening"))
    }

    @Test func triggerSendsOneSignedEventAndFailsWhenNobodyListens() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            let sent = try await Self.run(
                ["trigger", "checkout_session.finished", "--forward-to", url], environment: ["SANDBOX_WEBHOOK_SECRET": "whsec_cli"])
            #expect(sent.status == 0, "\(sent.output)")
            #expect(sent.output.contains("checkout_session.finished evt_"))
            #expect(sent.output.contains(": 200"))
            let item = try #require(receiver.received.first)
            #expect(throws: Never.self) { try WebhookVerifier(secrets: ["whsec_cli"]).verify(body: item.body, header: item.signature) }
            #expect(try item.event?.checkoutSession()?.paymentResource?.paymentIntent?.status == .succeeded)
        }
        let secret = ["SANDBOX_WEBHOOK_SECRET": "whsec_cli"]
        let failed = try await Self.run(
            ["trigger", "payment_intent.failed", "--forward-to", "http://127.0.0.1:1/x", "--timeout", "1"], environment: secret)
        #expect(failed.status != 0)
        let unknown = try await Self.run(["trigger", "charge.succeeded", "--forward-to", "http://127.0.0.1:1/x"], environment: secret)
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("unknown event type"))
    }

    /// Issue 14, part 5: the secret comes from the environment or a file, never the arguments.
    @Test func triggerSignsWithTheSecretFromAFileAndNeverTakesItAsAnArgument() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-trigger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("webhook-secret")
        try Data("whsec_from_a_file_0001\n".utf8).write(to: file)
        // The test process itself may have the variable; each run says exactly what it has.
        let none = ["SANDBOX_WEBHOOK_SECRET": "", "SANDBOX_WEBHOOK_SECRET_FILE": ""]
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            let byOption = try await Self.run(
                ["trigger", "payment_intent.succeeded", "--forward-to", url, "--secret-file", file.path], environment: none)
            #expect(byOption.status == 0, "\(byOption.output)")
            var byVariable = none
            byVariable["SANDBOX_WEBHOOK_SECRET_FILE"] = file.path
            let byFileVariable = try await Self.run(["trigger", "payment_intent.succeeded", "--forward-to", url], environment: byVariable)
            #expect(byFileVariable.status == 0, "\(byFileVariable.output)")
            #expect(receiver.received.count == 2)
            for item in receiver.received {
                #expect(throws: Never.self) {
                    try WebhookVerifier(secrets: ["whsec_from_a_file_0001"]).verify(body: item.body, header: item.signature)
                }
            }
        }
        let target = ["trigger", "payment_intent.succeeded", "--forward-to", "http://127.0.0.1:1/x"]
        let noSecret = try await Self.run(target, environment: none)
        #expect(noSecret.status != 0)
        #expect(noSecret.output.contains("no webhook secret: set SANDBOX_WEBHOOK_SECRET"), "\(noSecret.output)")
        let onTheCommandLine = try await Self.run(target + ["--secret", "whsec_cli"], environment: none)
        #expect(onTheCommandLine.status != 0)
        #expect(onTheCommandLine.output.contains("--secret is no longer taken"), "\(onTheCommandLine.output)")
        let missing = try await Self.run(target + ["--secret-file", directory.appendingPathComponent("nope").path], environment: none)
        #expect(missing.status != 0)
        #expect(missing.output.contains("--secret-file: cannot read"), "\(missing.output)")
        var both = none
        both["SANDBOX_WEBHOOK_SECRET"] = "whsec_in_env_0001"
        both["SANDBOX_WEBHOOK_SECRET_FILE"] = file.path
        let twice = try await Self.run(target, environment: both)
        #expect(twice.status != 0)
        #expect(twice.output.contains("set either SANDBOX_WEBHOOK_SECRET or SANDBOX_WEBHOOK_SECRET_FILE, not both"), "\(twice.output)")
        #expect(!twice.output.contains("whsec_in_env_0001") && !twice.output.contains("whsec_from_a_file_0001"))
        let help = try await Self.run(["trigger", "--help"])
        #expect(help.output.contains("--secret-file") && help.output.contains("SANDBOX_WEBHOOK_SECRET"))
        #expect(!help.output.contains("--secret <"), "the hidden --secret is not offered")
    }

    @Test func serveReadsItsKeysFromFiles() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-sandbox-key-\(UUID().uuidString)")
        try Data("sk_test_from_a_file_0001\n".utf8).write(to: file)
        let configuration = try SandboxConfiguration(environment: ["SANDBOX_SECRET_KEY_FILE": file.path])
        #expect(configuration.secretKey == "sk_test_from_a_file_0001")
        #expect(throws: ConfigurationError.self) {
            try SandboxConfiguration(environment: ["SANDBOX_SECRET_KEY_FILE": file.path, "SANDBOX_SECRET_KEY": "sk_test_x"])
        }
        let run = try await Self.run(
            ["serve"],
            environment: ["SANDBOX_WEBHOOK_SECRET_FILE": "/nonexistent/cobro/secret", "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:1/x"])
        #expect(run.status != 0)
        #expect(run.output.contains("SANDBOX_WEBHOOK_SECRET_FILE: cannot read"), "\(run.output)")
    }
}
