/// One thing wrong with an input, named by where it is and why, so an API can answer with the
/// field (`line_items[2].quantity`) and a reason a developer can act on.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Path of the offending field in the input's own (snake_case) names, e.g. `customer.email`.
    public let path: String
    /// A stable machine-readable code, e.g. `required`, `too_long`, `invalid_format`.
    public let code: String
    /// What is wrong, for a person.
    public let reason: String

    public init(path: String, code: String, reason: String) {
        self.path = path
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Every issue found in one input, in the order the fields were checked.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let issues: [ValidationIssue]

    public init(_ issues: [ValidationIssue]) {
        precondition(!issues.isEmpty, "a ValidationError needs at least one issue")
        self.issues = issues
    }

    public init(path: String, code: String, reason: String) {
        self.init([ValidationIssue(path: path, code: code, reason: reason)])
    }

    public var description: String { issues.map(\.description).joined(separator: "; ") }
}

/// Gathers issues across many fields so one answer lists all of them, not just the first.
public struct ValidationCollector: Sendable {
    public private(set) var issues: [ValidationIssue] = []

    public init() {}

    public mutating func add(_ path: String, _ code: String, _ reason: String) {
        issues.append(ValidationIssue(path: path, code: code, reason: reason))
    }

    /// Runs a validation that throws and keeps its issues; returns its value when it passed.
    public mutating func collect<T>(_ body: () throws(ValidationError) -> T) -> T? {
        do {
            return try body()
        } catch {
            issues += error.issues
            return nil
        }
    }

    public func check() throws(ValidationError) {
        if !issues.isEmpty { throw ValidationError(issues) }
    }

    /// Joins a field name onto a parent path: `join("customer", "email")` is `customer.email`.
    public static func join(_ parent: String, _ field: String) -> String {
        parent.isEmpty ? field : "\(parent).\(field)"
    }
}
