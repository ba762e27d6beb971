import Fintoc
import Foundation
import PaymentsCore

/// A JSON request body read field by field, so each problem is reported with Fintoc's code and
/// the `param` it concerns instead of a generic decoding failure.
struct BodyFields: Sendable {
    let object: [String: JSONValue]
    let prefix: String

    init(_ object: [String: JSONValue], prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Parses a body; an empty body is an empty object (the SDKs send none for `expire`).
    static func parse(_ data: Data) throws(SandboxError) -> BodyFields {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return BodyFields([:]) }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalidJSON("it could not be parsed")
        }
        guard case .object(let object) = value else { throw .invalidJSON("expected an object") }
        return BodyFields(object)
    }

    func name(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    func has(_ key: String) -> Bool {
        if let value = object[key], value != .null { return true }
        return false
    }

    func requiredAmount(_ key: String = "amount") throws(SandboxError) -> Int64 {
        guard has(key) else { throw .missingParameter(name(key)) }
        return try amount(key, allowZero: false)!
    }

    /// The largest amount (and line total) the sandbox accepts: far above any real payment,
    /// far below where sums could overflow.
    static let maxAmount: Int64 = 1_000_000_000_000

    func amount(_ key: String, allowZero: Bool) throws(SandboxError) -> Int64? {
        guard let value = object[key], value != .null else { return nil }
        let invalid = SandboxError.invalidParameter(
            name(key), "\(name(key)) must be a positive integer in the currency's smallest unit.", code: "invalid_amount")
        let number: Int64
        switch value {
        case .int(let int): number = int
        case .double(let double) where double.rounded() == double && abs(double) < 1e15: number = Int64(double)
        case .string(let text) where Int64(text) != nil: number = Int64(text)!
        default: throw invalid
        }
        guard allowZero ? number >= 0 : number > 0, number <= Self.maxAmount else { throw invalid }
        return number
    }

    func requiredCurrency(_ key: String = "currency") throws(SandboxError) -> FintocCurrency {
        guard has(key) else { throw .missingParameter(name(key)) }
        guard let text = object[key]?.stringValue, FintocCurrency(rawValue: text).isKnown else {
            throw .invalidParameter(name(key), "\(name(key)) must be one of CLP, MXN.", code: "invalid_currency")
        }
        return FintocCurrency(rawValue: text)
    }

    func string(_ key: String) throws(SandboxError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw .invalidParameter(name(key), "\(name(key)) must be a string.") }
        return text
    }

    func requiredString(_ key: String) throws(SandboxError) -> String {
        guard let text = try string(key), !text.isEmpty else { throw .missingParameter(name(key)) }
        return text
    }

    /// An absolute http(s) URL by the gateway's own rule (``HTTPURLRule``: RFC 3986's characters
    /// only), except that Fintoc's `{CHECKOUT_SESSION_ID}` template may appear in it.
    func url(_ key: String, required: Bool) throws(SandboxError) -> String? {
        guard let text = required ? try requiredString(key) : try string(key) else { return nil }
        let filled = text.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: "cs_template")
        if let problem = HTTPURLRule.problem(filled) {
            throw .invalidParameter(name(key), "\(name(key)) must be an http(s) URL: it \(problem).", code: "invalid_url")
        }
        return text
    }

    func email(_ key: String) throws(SandboxError) -> String? {
        guard let text = try string(key) else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(".") else {
            throw .invalidParameter(name(key), "\(name(key)) must be an email address.", code: "invalid_email")
        }
        return text
    }

    func metadata(_ key: String = "metadata") throws(SandboxError) -> Metadata? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object(let object) = value else { throw .invalidParameter(name(key), "\(name(key)) must be an object.") }
        return object
    }

    func nested(_ key: String) throws(SandboxError) -> BodyFields? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object(let object) = value else { throw .invalidParameter(name(key), "\(name(key)) must be an object.") }
        return BodyFields(object, prefix: name(key))
    }

    func array(_ key: String) throws(SandboxError) -> [JSONValue]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .array(let items) = value else { throw .invalidParameter(name(key), "\(name(key)) must be an array.") }
        return items
    }

    func bool(_ key: String) throws(SandboxError) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw .invalidParameter(name(key), "\(name(key)) must be true or false.") }
        return flag
    }

    func raw(_ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }
}
