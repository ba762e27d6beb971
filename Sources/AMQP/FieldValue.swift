import Foundation

/// An AMQP field table: message headers and the arguments of declarations.
public typealias FieldTable = [String: FieldValue]

/// One value of an AMQP field table, with the kinds RabbitMQ understands.
///
/// Integer literals become `.int64` and string literals `.string`, so arguments read naturally:
/// `["x-message-ttl": 60_000, "x-queue-type": "quorum"]`.
public enum FieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case decimal(scale: UInt8, value: UInt32)
    case string(String)
    case bytes([UInt8])
    case timestamp(Date)
    case array([FieldValue])
    case table(FieldTable)
    case void

    /// Any integer kind widened, so readers need not care which width the sender chose.
    public var intValue: Int64? {
        switch self {
        case .int8(let v): Int64(v)
        case .uint8(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .int64(let v): v
        default: nil
        }
    }

    public var stringValue: String? {
        switch self {
        case .string(let s): s
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var tableValue: FieldTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    public var arrayValue: [FieldValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var dateValue: Date? {
        if case .timestamp(let d) = self { return d }
        return nil
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: FieldValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self = .table(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
