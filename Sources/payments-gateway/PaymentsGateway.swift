import ArgumentParser
import Foundation
import Gateway
import Hummingbird
import Logging
import PaymentsCore
import ServiceRuntime

/// The payments-gateway executable: configuration from the environment, then the library does
/// the work. `serve` is the default.
@main
struct PaymentsGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments-gateway",
        abstract: "Starts Fintoc checkouts for storefronts and publishes payment events to RabbitMQ.",
        discussion: """
            Configuration comes from environment variables; every default runs the local stack:

            \(ConfigurationVariable.helpText(GatewayConfiguration.variables + [LogLevelSetting.variable]))

            \(ConfigurationVariable.secretsHelp)
            """,
        subcommands: [Serve.self, APIKeys.self, Outbox.self, Events.self, Reconcile.self],
        defaultSubcommand: Serve.self
    )
}

/// Reads the configuration, or exits with the variable and the reason (exit status 78, EX_CONFIG).
func loadConfiguration() throws -> GatewayConfiguration {
    do {
        return try GatewayConfiguration.fromEnvironment()
    } catch {
        ConfigurationExit.exit("payments-gateway", error)
    }
}

/// The store the configuration names (GATEWAY_DATABASE_URL or GATEWAY_DATABASE), migrated, for
/// a command. Quiet below warnings: the commands' own output (`--json`) is on stdout.
func openStore(_ configuration: GatewayConfiguration? = nil) async throws -> GatewayStore {
    var logger = Logger(label: "payments-gateway")
    logger.logLevel = .warning
    return try await GatewayStore.open(configuration ?? loadConfiguration(), logger: logger)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and the outbox relay until SIGINT or SIGTERM (the default command)."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = LogLevelSetting.bootstrapOrExit(label: "payments-gateway")
        logger.info(
            "payments-gateway starting",
            metadata: [
                "address": "\(configuration.host):\(configuration.port)",
                "admin_address": "\(configuration.adminHost):\(configuration.adminPort)",
                "database": "\(configuration.database)",
                "fintoc": "\(configuration.fintoc.baseURL)", "storefront_keys_configured": "\(configuration.storefrontKeys.count)",
            ])
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}
