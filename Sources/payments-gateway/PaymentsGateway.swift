import ArgumentParser
import Foundation
import Gateway
import Hummingbird
import Logging
import PaymentsCore

/// The payments-gateway executable: configuration from the environment, then the library does
/// the work. `serve` is the default.
@main
struct PaymentsGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments-gateway",
        abstract: "Starts Fintoc checkouts for storefronts and publishes payment events to RabbitMQ.",
        discussion: """
            Configuration comes from environment variables; every default runs the local stack:

            \(ConfigurationVariable.helpText(GatewayConfiguration.variables + [logLevelVariable]))

            \(ConfigurationVariable.secretsHelp)
            """,
        subcommands: [Serve.self, APIKeys.self, Outbox.self, Events.self, Reconcile.self],
        defaultSubcommand: Serve.self
    )

    static let logLevelVariable = ConfigurationVariable("LOG_LEVEL", default: "info", "trace, debug, info, notice, warning, error or critical")
}

/// Reads the configuration, or exits with the variable and the reason (exit status 78, EX_CONFIG).
func loadConfiguration() throws -> GatewayConfiguration {
    do {
        return try GatewayConfiguration.fromEnvironment()
    } catch {
        FileHandle.standardError.write(Data("payments-gateway: configuration error: \(error)\n".utf8))
        throw ExitCode(78)
    }
}

func makeLogger() throws -> Logger {
    let text = EnvironmentReader().string("LOG_LEVEL", default: "info")
    guard let level = Logger.Level(rawValue: text.lowercased()) else {
        FileHandle.standardError.write(Data("payments-gateway: configuration error: LOG_LEVEL: \"\(text)\" is not a log level\n".utf8))
        throw ExitCode(78)
    }
    LoggingSystem.bootstrap(StreamLogHandler.standardError)
    var logger = Logger(label: "payments-gateway")
    logger.logLevel = level
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and the outbox relay until SIGINT or SIGTERM (the default command)."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = try makeLogger()
        logger.info("payments-gateway starting", metadata: [
            "address": "\(configuration.host):\(configuration.port)", "admin_address": "\(configuration.adminHost):\(configuration.adminPort)",
            "database": "\(configuration.databasePath)",
            "fintoc": "\(configuration.fintoc.baseURL)", "storefront_keys_configured": "\(configuration.storefrontKeys.count)",
        ])
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}
