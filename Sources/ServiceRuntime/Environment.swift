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
    /// wraps at 80 columns. A secret says it may come from a file instead.
    public static func helpText(_ variables: [ConfigurationVariable]) -> String {
        variables.map { variable in
            let shown = variable.defaultValue.isEmpty ? "unset" : variable.defaultValue
            let file = variable.isSecret ? "\n      (secret: or \(variable.fileVariable), a file holding the value)" : ""
            return "  \(variable.name) (default: \(shown))\n      \(variable.summary)\(file)"
        }.joined(separator: "\n")
    }

    /// The variable naming a file that holds this secret's value (`FINTOC_SECRET_KEY_FILE`).
    public var fileVariable: String { EnvironmentReader.fileVariable(for: name) }

    /// The paragraph `--help` ends with: where secrets come from.
    public static let secretsHelp = """
        Secrets come from the environment or from files, never from the command line (where
        ps would show them): for a secret X, X_FILE names a file whose contents (one trailing
        newline trimmed) are the value, as Docker and Kubernetes mount secrets. Setting both X
        and X_FILE is an error.
        """
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

    /// The largest secret file read: a key or a URL, never more.
    public static let maxSecretFileBytes = 64 * 1024

    /// `NAME_FILE`, the variable naming a file that holds the secret `NAME`.
    public static func fileVariable(for name: String) -> String { "\(name)_FILE" }

    /// This environment with each secret among `variables` read from its `X_FILE` when that is
    /// set: Docker and Kubernetes mount secrets as files, and a value in a file is in no
    /// process's arguments or environment listing. The file's contents, less one trailing
    /// newline (`\n` or `\r\n`), are the value. Both `X` and `X_FILE` set, an unreadable,
    /// empty or oversized file, or one that is not UTF-8 is an error naming `X_FILE` (and the
    /// path, never the contents).
    public func resolvingSecretFiles(for variables: [ConfigurationVariable]) throws(ConfigurationError) -> EnvironmentReader {
        var values = self.values
        for variable in variables where variable.isSecret {
            let fileVariable = variable.fileVariable
            guard let path = optionalString(fileVariable) else { continue }
            guard optionalString(variable.name) == nil else {
                throw ConfigurationError(fileVariable, "set either \(variable.name) or \(fileVariable), not both")
            }
            values[variable.name] = try Self.readSecretFile(path, variable: fileVariable)
        }
        return EnvironmentReader(values)
    }

    /// The secret in the file at `path` (one trailing newline trimmed); an error names `variable`
    /// (the variable or option that gave the path) and the path, never the contents.
    public static func readSecretFile(_ path: String, variable: String) throws(ConfigurationError) -> String {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxSecretFileBytes + 1) ?? Data()
        } catch {
            throw ConfigurationError(variable, "cannot read \"\(path)\": \(Self.describe(error, path: path))")
        }
        guard data.count <= maxSecretFileBytes else {
            throw ConfigurationError(variable, "\"\(path)\" is larger than \(maxSecretFileBytes) bytes")
        }
        guard var text = String(data: data, encoding: .utf8) else { throw ConfigurationError(variable, "\"\(path)\" is not UTF-8 text") }
        // "\r\n" is one Character in Swift, so one removal takes either line ending.
        if text.last == "\n" || text.last == "\r\n" { text.removeLast() }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ConfigurationError(variable, "\"\(path)\" is empty")
        }
        return text
    }

    /// Why the file could not be read, in a few words rather than Foundation's wrapping.
    private static func describe(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a folder" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return (error as NSError).localizedDescription
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
        guard range.contains(value) else {
            throw ConfigurationError(name, "must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    public func seconds(_ name: String, default defaultValue: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = optionalString(name) else { return defaultValue }
        guard let value = Double(text), value.isFinite else { throw ConfigurationError(name, "\"\(text)\" is not a number of seconds") }
        guard range.contains(value) else {
            throw ConfigurationError(name, "must be between \(range.lowerBound) and \(range.upperBound) seconds, not \(text)")
        }
        return value
    }

    public func port(_ name: String, default defaultValue: Int) throws(ConfigurationError) -> Int {
        try integer(name, default: defaultValue, in: 0...65535)
    }

    /// An absolute URL with one of `schemes` and a host.
    public func url(_ name: String, default defaultValue: String, schemes: Set<String>, secret: Bool = false) throws(ConfigurationError)
        -> String
    {
        let text = string(name, default: defaultValue)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            schemes.contains(scheme), let host = components.host, !host.isEmpty
        else {
            let shown = secret ? "the value" : "\"\(text)\""
            throw ConfigurationError(
                name, "\(shown) must be a URL with a host and the scheme \(schemes.sorted().joined(separator: " or "))")
        }
        return text
    }

    /// A comma-separated list with empty items dropped.
    public func list(_ name: String) -> [String] {
        (optionalString(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
