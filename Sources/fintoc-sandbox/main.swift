import ArgumentParser
import AsyncHTTPClient
import Fintoc
import FintocSandbox
import Foundation
import Hummingbird
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// `fintoc-sandbox`: a local stand-in for Fintoc's test mode. Thin: configuration in, the
/// library's application out.
@main
struct FintocSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fintoc-sandbox",
        abstract: "A local stand-in for Fintoc's test mode: API, hosted checkout, widget, signed webhooks, fault injection.",
        discussion: environmentHelp,
        subcommands: [Serve.self, Trigger.self],
        defaultSubcommand: Serve.self
    )
}

/// Every variable with its default, for both `--help` screens.
let environmentHelp =
    "Configuration comes from the environment:\n\n"
    + ConfigurationVariable.helpText(SandboxConfiguration.variables + [LogLevelSetting.variable])
    + "\n\n" + ConfigurationVariable.secretsHelp

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the sandbox (the default).",
        discussion: environmentHelp
    )

    func run() async throws {
        let configuration: SandboxConfiguration
        do {
            configuration = try SandboxConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            ConfigurationExit.exit("fintoc-sandbox", error)
        }
        let logger = LogLevelSetting.bootstrapOrExit(label: "fintoc-sandbox")
        let app = try await buildApplication(configuration: configuration, logger: logger)
        logger.info(
            "fintoc-sandbox listening",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)", "public_url": "\(configuration.publicURL)",
                "bootstrap_webhook": "\(configuration.bootstrapWebhook?.url ?? "none")",
            ]
        )
        // Application.runService runs the server and its services in a ServiceGroup that shuts
        // down gracefully on SIGINT and SIGTERM.
        try await app.runService()
    }
}

struct Trigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send one realistic, signed event to a webhook URL.",
        discussion: """
            Event types: \(SampleEvents.supportedTypes.joined(separator: ", "))

            The event is signed with SANDBOX_WEBHOOK_SECRET, or with the contents of the file \
            SANDBOX_WEBHOOK_SECRET_FILE or --secret-file names (one trailing newline trimmed). \
            The secret is never an argument: ps would show it to every user of the machine.
            """
    )

    @Argument(help: "The event type, e.g. payment_intent.succeeded.")
    var eventType: String

    @Option(name: .customLong("forward-to"), help: "The URL to POST the event to.")
    var forwardTo: String

    @Option(name: .customLong("secret-file"), help: "A file holding the webhook secret to sign with (default: $SANDBOX_WEBHOOK_SECRET).")
    var secretFile: String?

    /// Gone: a secret in the arguments shows in `ps`. Kept hidden only to say what to do instead.
    @Option(help: .hidden)
    var secret: String?

    @Option(help: "Amount in the currency's smallest unit.")
    var amount: Int64 = 350_000

    @Option(help: "CLP or MXN.")
    var currency: String = "CLP"

    @Option(help: "Seconds to wait for the receiver.")
    var timeout: Double = 10

    func validate() throws {
        guard SampleEvents.supportedTypes.contains(eventType) else {
            throw ValidationError(
                "unknown event type \"\(eventType)\"; expected one of: \(SampleEvents.supportedTypes.joined(separator: ", "))")
        }
        guard let url = URL(string: forwardTo), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--forward-to must be an http(s) URL")
        }
        guard secret == nil else {
            throw ValidationError(
                "--secret is no longer taken (ps shows every argument): set SANDBOX_WEBHOOK_SECRET or pass --secret-file PATH")
        }
        guard amount > 0 else { throw ValidationError("--amount must be positive") }
        guard FintocCurrency(rawValue: currency).isKnown else { throw ValidationError("--currency must be CLP or MXN") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be more than 0 and at most 3600 seconds") }
    }

    static let secretVariable = ConfigurationVariable("SANDBOX_WEBHOOK_SECRET", default: "", "the secret to sign with", secret: true)

    /// The signing secret: `--secret-file`, else `SANDBOX_WEBHOOK_SECRET` (or the file its
    /// `_FILE` variable names).
    func signingSecret() throws -> String {
        do {
            if let secretFile { return try EnvironmentReader.readSecretFile(secretFile, variable: "--secret-file") }
            let name = Self.secretVariable.name
            if let secret = try EnvironmentReader().resolvingSecretFiles(for: [Self.secretVariable]).optionalString(name) { return secret }
            throw ValidationError("no webhook secret: set \(name) (or \(Self.secretVariable.fileVariable)) or pass --secret-file PATH")
        } catch let error as ConfigurationError {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let secret = try signingSecret()
        guard let event = SampleEvents.make(type: eventType, amount: amount, currency: FintocCurrency(rawValue: currency)) else {
            throw ValidationError("unknown event type \"\(eventType)\"")
        }
        let client = WebhookPoster.makeClient()
        let result = await WebhookPoster(client: client, timeout: timeout).post(
            body: SampleEvents.body(of: event), to: forwardTo, secret: secret, timestamp: Int64(Date().timeIntervalSince1970)
        )
        try await client.shutdown()
        if let status = result.statusCode {
            print("\(event.type) \(event.id) -> \(forwardTo): \(status)")
        } else {
            print("\(event.type) \(event.id) -> \(forwardTo): failed: \(result.error ?? "unknown error")")
        }
        if !result.succeeded { throw ExitCode.failure }
    }
}
