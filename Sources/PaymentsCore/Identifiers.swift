/// An identifier kept to a conservative alphabet (letters, digits, `.`, `_`, `-`; 1 to 64
/// characters, starting with a letter or digit) so it is safe in URLs, AMQP headers, file names
/// and event ids. Each concrete type only names itself; the rules and coding live here.
public protocol SafeIdentifier: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The field name used in error paths when no other is given.
    static var defaultPath: String { get }
    var rawValue: String { get }
    init(uncheckedRawValue: String)
}

extension SafeIdentifier {
    public init(_ raw: String, at path: String = Self.defaultPath) throws(ValidationError) {
        try IdentifierRules.check(raw, at: path)
        self.init(uncheckedRawValue: raw)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(uncheckedRawValue: try IdentifierRules.decode(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The storefront's own order identifier, which every event about the order carries as its
/// CloudEvents `subject`.
public struct OrderID: SafeIdentifier {
    public static let defaultPath = "order_id"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

/// The name of the storefront an order belongs to (the name its API key was made for). Order ids
/// are the storefront's own, so they are unique only within one storefront: an order is named
/// by the pair (storefront, order id) everywhere, in stores, events and commands.
public struct StorefrontID: SafeIdentifier {
    public static let defaultPath = "storefront"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

/// The gateway's identifier of one checkout attempt of an order (an order may need several);
/// the gateway mints them as `chk_` plus random characters.
public struct CheckoutID: SafeIdentifier {
    public static let defaultPath = "checkout_id"
    public let rawValue: String
    public init(uncheckedRawValue: String) { rawValue = uncheckedRawValue }
}

enum IdentifierRules {
    static let maxLength = 64

    static func check(_ raw: String, at path: String) throws(ValidationError) {
        if raw.isEmpty {
            throw ValidationError(path: path, code: "required", reason: "must not be empty")
        }
        if raw.utf8.count > maxLength {
            throw ValidationError(path: path, code: "too_long", reason: "must be at most \(maxLength) characters")
        }
        let bytes = Array(raw.utf8)
        guard isAlphanumeric(bytes[0]),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw ValidationError(
                path: path,
                code: "invalid_format",
                reason: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"
            )
        }
    }

    static func decode(from decoder: any Decoder) throws -> String {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try check(raw, at: decoder.codingPath.fieldPath)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
        return raw
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

extension [any CodingKey] {
    /// `line_items[2].quantity` from a decoder's coding path, for error messages.
    public var fieldPath: String {
        var path = ""
        for key in self {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path = ValidationCollector.join(path, key.stringValue)
            }
        }
        return path
    }
}
