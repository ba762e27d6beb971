import Foundation

/// Any JSON value, for the parts of the event contract that are deliberately left open: members
/// of a provider's object that the gateway passes through to consumers without reading (the
/// extra members of Fintoc's `next_action`).
///
/// PaymentsCore depends on Foundation only, so it cannot share `Fintoc.JSONValue`; this is its
/// own, equally small, twin. Whole numbers stay exact (`int`), so a value read and written again
/// is the same JSON.
public enum OpenJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([OpenJSON])
    case object([String: OpenJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([OpenJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: OpenJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// How many arrays and objects are nested in this value: 0 for a scalar, 1 for `[1, 2]`,
    /// 2 for `{"a": [1]}`. Limits on it keep a consumer's recursion shallow.
    public var nesting: Int {
        switch self {
        case .null, .bool, .int, .double, .string: 0
        case .array(let values): 1 + (values.lazy.map(\.nesting).max() ?? 0)
        case .object(let members): 1 + (members.values.lazy.map(\.nesting).max() ?? 0)
        }
    }
}
