import Foundation

/// One environment variable of an executable, for `--help` and the README.
public struct ConfigurationVariable: Sendable, Hashable {
    public let name: String
    /// The value used when unset, as a person would write it ("" when there is none).
    public let defaultValue: String
    public let summary: String
    /// Secrets are never echoed back, not even in errors.
    public let isSecret: Bool

    public init(_ name: String, default defaultValue: String, _ summary: String, secret: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
        self.isSecret = secret
    }

    /// Lines for `--help`: the name and default, then the summary indented below, so nothing
    /// wraps at 80 columns.
    public static func helpText(_ variables: [ConfigurationVariable]) -> String {
        variables.map { variable in
            let shown = variable.defaultValue.isEmpty ? "unset" : variable.defaultValue
            return "  \(variable.name) (default: \(shown))\n      \(variable.summary)"
        }.joined(separator: "\n")
    }
}

/// A configuration value that cannot be used, named with the variable and the reason.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let variable: String
    public let reason: String

    public init(_ variable: String, _ reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "\(variable): \(reason)" }
}

/// Typed reads of environment variables, each failing with the variable's name and what was
/// expected; a secret's value never appears in an error.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The value, or `defaultValue` when unset or empty.
    public func string(_ name: String, default defaultValue: String) -> String {
        optionalString(name) ?? defaultValue
    }

    /// The value, or nil when unset or empty.
    public func optionalString(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = optionalString(name) else { return defaultValue }
        guard let value = Int(text) else { throw ConfigurationError(name, "\"\(text)\" is not a whole number") }
        guard range.contains(value) else { throw ConfigurationError(name, "must be between \(range.lowerBound) and \(range.upperBound), not \(value)") }
        return value
    }

    public func seconds(_ name: String, default defaultValue: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = optionalString(name) else { return defaultValue }
        guard let value = Double(text), value.isFinite else { throw ConfigurationError(name, "\"\(text)\" is not a number of seconds") }
        guard range.contains(value) else { throw ConfigurationError(name, "must be between \(range.lowerBound) and \(range.upperBound) seconds, not \(text)") }
        return value
    }

    public func port(_ name: String, default defaultValue: Int) throws(ConfigurationError) -> Int {
        try integer(name, default: defaultValue, in: 0...65535)
    }

    /// An absolute URL with one of `schemes` and a host.
    public func url(_ name: String, default defaultValue: String, schemes: Set<String>, secret: Bool = false) throws(ConfigurationError) -> String {
        let text = string(name, default: defaultValue)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            schemes.contains(scheme), let host = components.host, !host.isEmpty
        else {
            let shown = secret ? "the value" : "\"\(text)\""
            throw ConfigurationError(name, "\(shown) must be a URL with a host and the scheme \(schemes.sorted().joined(separator: " or "))")
        }
        return text
    }

    /// A comma-separated list with empty items dropped.
    public func list(_ name: String) -> [String] {
        (optionalString(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
