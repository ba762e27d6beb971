import ArgumentParser
import Foundation
import Fulfillment
import Hummingbird
import Logging
import PaymentsCore
import ServiceRuntime

/// The fulfillment-worker executable: configuration from the environment, then the library
/// does the work. `serve` is the default.
@main
struct FulfillmentWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment-worker",
        abstract: "Consumes payment events: holds and sells stock, emails customers, publishes order outcomes.",
        discussion: """
            Configuration comes from environment variables; every default runs the local stack:

            \(ConfigurationVariable.helpText(WorkerConfiguration.variables + [LogLevelSetting.variable]))

            \(ConfigurationVariable.secretsHelp)
            """,
        subcommands: [Serve.self, Inventory.self, DLQ.self],
        defaultSubcommand: Serve.self
    )
}

/// Reads the configuration, or exits with the variable and the reason (exit status 78, EX_CONFIG).
func loadConfiguration() throws -> WorkerConfiguration {
    do {
        return try WorkerConfiguration.fromEnvironment()
    } catch {
        ConfigurationExit.exit("fulfillment-worker", error)
    }
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("fulfillment-worker: \(message)\n".utf8))
    Foundation.exit(status)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consume events, send emails and serve health and metrics until SIGINT or SIGTERM (the default command)."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = LogLevelSetting.bootstrapOrExit(label: "fulfillment-worker")
        logger.info(
            "fulfillment-worker starting",
            metadata: [
                "health_address": "\(configuration.host):\(configuration.port)", "database": "\(configuration.database)",
                "prefetch": "\(configuration.prefetch)",
                "mail": "\(configuration.smtp.map(\.description) ?? "files in \(configuration.mailDirectory)")",
            ])
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
        logger.info("fulfillment-worker stopped")
    }
}
