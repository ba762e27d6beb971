import ArgumentParser
import Foundation
import Fulfillment
import Hummingbird
import Logging
import PaymentsCore

/// The fulfillment-worker executable: configuration from the environment, then the library
/// does the work. `serve` is the default.
@main
struct FulfillmentWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fulfillment-worker",
        abstract: "Consumes payment events: holds and sells stock, emails customers, publishes order outcomes.",
        discussion: """
            Configuration comes from environment variables; every default runs the local stack:

            \(ConfigurationVariable.helpText(WorkerConfiguration.variables + [logLevelVariable]))

            \(ConfigurationVariable.secretsHelp)
            """,
        subcommands: [Serve.self, Inventory.self, DLQ.self],
        defaultSubcommand: Serve.self
    )

    static let logLevelVariable = ConfigurationVariable("LOG_LEVEL", default: "info", "trace, debug, info, notice, warning, error or critical")
}

/// Reads the configuration, or exits with the variable and the reason (exit status 78, EX_CONFIG).
func loadConfiguration() throws -> WorkerConfiguration {
    do {
        return try WorkerConfiguration.fromEnvironment()
    } catch {
        fail("configuration error: \(error)", status: 78)
    }
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("fulfillment-worker: \(message)\n".utf8))
    Foundation.exit(status)
}

func makeLogger() -> Logger {
    let text = EnvironmentReader().string("LOG_LEVEL", default: "info")
    guard let level = Logger.Level(rawValue: text.lowercased()) else {
        fail("configuration error: LOG_LEVEL: \"\(text)\" is not a log level", status: 78)
    }
    LoggingSystem.bootstrap(StreamLogHandler.standardError)
    var logger = Logger(label: "fulfillment-worker")
    logger.logLevel = level
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consume events, send emails and serve health and metrics until SIGINT or SIGTERM (the default command)."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger()
        logger.info("fulfillment-worker starting", metadata: [
            "health_address": "\(configuration.host):\(configuration.port)", "database": "\(configuration.databasePath)",
            "prefetch": "\(configuration.prefetch)",
            "mail": "\(configuration.smtp.map(\.description) ?? "files in \(configuration.mailDirectory)")",
        ])
        let app = try buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
        logger.info("fulfillment-worker stopped")
    }
}
