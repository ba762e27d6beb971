/// A string enumeration from Fintoc's API that may grow: values this code does not know are kept
/// as they came (and compare unequal to every known case) instead of failing the whole decode.
public protocol OpenEnum: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral
where RawValue == String {
    init(rawValue: String)
    /// The values this code knows; anything else is `isKnown == false`.
    static var known: [Self] { get }
}

extension OpenEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
    public var isKnown: Bool { Self.known.contains(self) }
}

/// `test` or `live`; test and live objects never mix.
public struct FintocMode: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let test: Self = "test"
    public static let live: Self = "live"
    public static let known: [Self] = [.test, .live]
}

/// An ISO 4217 code as Fintoc sends it; stored upper case whatever case arrived.
public struct FintocCurrency: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }
    public static let clp: Self = "CLP"
    public static let mxn: Self = "MXN"
    public static let known: [Self] = [.clp, .mxn]
}
