import Foundation
import Logging

/// `LOG_LEVEL`, read and applied the same way by every executable: a level swift-log knows
/// (any case), `info` when unset, and a configuration error, never a silent default, otherwise.
public enum LogLevelSetting {
    public static let variable = ConfigurationVariable(
        "LOG_LEVEL", default: "info", "trace, debug, info, notice, warning, error or critical"
    )

    /// The level `LOG_LEVEL` names in `environment`.
    public static func level(in environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> Logger.Level {
        let text = environment.string(variable.name, default: variable.defaultValue)
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigurationError(variable.name, "\"\(text)\" is not a log level")
        }
        return level
    }

    /// Bootstraps swift-log to standard error and returns the executable's logger at the level
    /// `LOG_LEVEL` names. Call once, at start.
    public static func bootstrap(label: String, environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> Logger {
        let level = try level(in: environment)
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    /// `bootstrap(label:)` for an executable's start: a bad `LOG_LEVEL` ends the process as a
    /// configuration error (`ConfigurationExit`).
    public static func bootstrapOrExit(label: String) -> Logger {
        do {
            return try bootstrap(label: label)
        } catch {
            ConfigurationExit.exit(label, error)
        }
    }
}
