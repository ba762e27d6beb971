import AsyncHTTPClient
import CobroTestSupport
import Fintoc
import Foundation
import Testing

/// The thin `fintoc-sandbox` executable as an operator runs it: `--help` lists every variable,
/// bad configuration stops it with the variable named, SIGTERM shuts it down gracefully, and
/// `trigger` sends one signed event.
@Suite struct ExecutableTests {
    typealias Run = ExecutableRunner.Run

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20), whileRunning: ((Process) async throws -> Void)? = nil) async throws -> Run {
        let run = try await ExecutableRunner.run("fintoc-sandbox", arguments, environment: environment, timeout: timeout, whileRunning: whileRunning)
        if run.timedOut { Issue.record("fintoc-sandbox \(arguments) did not end within \(timeout)") }
        return run
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
        // Released just before the process binds it, so no other test's server takes it meanwhile.
        let reserved = try RefusingPort()
        let port = reserved.port
        reserved.release()
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
