import Foundation

/// What the customer must do for a payment to go on, as Fintoc states it in the payment intent's
/// `next_action` when the payment is `requires_action` (seed 002: "inform your customer of the
/// action needed … based on the next_action field"). Carried in `payment.action_required` as
/// `data.payment.next_action`.
///
/// Fintoc documents the field only as an open object, so the contract names the two members a
/// consumer acts on, `type` (a machine name such as `approve_in_bank`) and `message` (text for
/// the customer), and passes every other member through unchanged in `other`, within limits: the
/// object comes from outside, and it ends up in emails and in other teams' consumers.
public struct NextAction: Sendable, Hashable, Codable {
    public static let maxTypeLength = 64
    public static let maxMessageLength = 1000
    /// Members in all, `type` and `message` included (a JSON Schema `maxProperties`).
    public static let maxMembers = 18
    public static let maxKeyLength = 64
    /// Arrays and objects nested inside one other member's value.
    public static let maxNesting = 4
    /// The whole object as JSON.
    public static let maxEncodedBytes = 4096

    /// What kind of action (e.g. `approve_in_bank`): letters, digits, `_`, `.` and `-`.
    public var type: String
    /// What to tell the customer, one line of plain text, when Fintoc gives it.
    public var message: String?
    /// The members Fintoc sent that this contract does not name, as they were.
    public var other: [String: JSONValue]

    public init(type: String, message: String? = nil, other: [String: JSONValue] = [:]) {
        self.type = type
        self.message = message
        self.other = other
    }

    /// Keeps what is usable of a provider's `next_action` and drops the rest, never failing the
    /// fact it came with: nil without a well-formed `type`; a message cleaned to one line (nil if
    /// blank or too long); other members while they fit the limits.
    ///
    /// A payment that needs action is a fact whatever its `next_action` looks like, so a webhook
    /// with an odd one is taken in; consumers get a valid object or none.
    public init?(reading object: [String: JSONValue]) {
        guard case .string(let type)? = object["type"], Self.isWellFormedType(type) else { return nil }
        var message: String?
        if case .string(let text)? = object["message"] {
            let line = Self.oneLine(text)
            if !line.isEmpty, line.unicodeScalars.count <= Self.maxMessageLength { message = line }
        }
        self.init(type: type, message: message)
        let named = Set(CodingKeys.named)
        var budget = Self.maxEncodedBytes - ((try? Self.encodedSize(self)) ?? Self.maxEncodedBytes)
        for key in object.keys.sorted() where !named.contains(key) && memberCount < Self.maxMembers {
            guard let value = object[key], Self.isWellFormedKey(key), value.nesting <= Self.maxNesting,
                let size = try? Self.encodedSize(value)
            else { continue }
            // The member's value, its quoted key, the colon and a comma.
            let cost = size + key.utf8.count + 4
            guard cost <= budget else { continue }
            other[key] = value
            budget -= cost
        }
        // The estimate above ignores escaping in keys; the check is what guarantees the limits.
        if (try? validate(at: "")) == nil { other = [:] }
    }

    /// Checks the limits the schema states; `path` prefixes every issue.
    public func validate(at path: String) throws(ValidationError) {
        var issues = ValidationCollector()
        if !Self.isWellFormedType(type) {
            issues.add(
                ValidationCollector.join(path, "type"), "invalid_format",
                "must be 1 to \(Self.maxTypeLength) letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
        if let message {
            let messagePath = ValidationCollector.join(path, "message")
            if message.trimmingWhitespace.isEmpty {
                issues.add(messagePath, "required", "must not be blank when given")
            } else if message.unicodeScalars.count > Self.maxMessageLength {
                issues.add(messagePath, "too_long", "must be at most \(Self.maxMessageLength) characters")
            } else if message.contains(where: \.isControlCharacter) {
                issues.add(messagePath, "invalid_format", "must not contain control characters (one line of text)")
            }
        }
        if memberCount > Self.maxMembers {
            issues.add(path, "too_many", "must have at most \(Self.maxMembers) members, type and message included")
        }
        for (key, value) in other.sorted(by: { $0.key < $1.key }) {
            let memberPath = ValidationCollector.join(path, key)
            if CodingKeys.named.contains(key) || !Self.isWellFormedKey(key) {
                issues.add(
                    memberPath, "invalid_format", "must be a member name of 1 to \(Self.maxKeyLength) characters without control characters"
                )
            } else if value.nesting > Self.maxNesting {
                issues.add(memberPath, "too_deep", "must nest at most \(Self.maxNesting) arrays or objects")
            }
        }
        if issues.issues.isEmpty, ((try? Self.encodedSize(self)) ?? Int.max) > Self.maxEncodedBytes {
            issues.add(path, "too_large", "must be at most \(Self.maxEncodedBytes) bytes as JSON")
        }
        try issues.check()
    }

    /// How many members the JSON object has.
    var memberCount: Int { 1 + (message == nil ? 0 : 1) + other.count }

    static func isWellFormedType(_ type: String) -> Bool {
        guard let first = type.utf8.first, type.utf8.count <= maxTypeLength, isLetterOrDigit(first) else { return false }
        return type.utf8.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func isWellFormedKey(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.count <= maxKeyLength && !key.contains(where: \.isControlCharacter)
    }

    /// The text on one line: line breaks and tabs become spaces, other control characters go,
    /// runs of spaces shrink to one, and the ends are trimmed.
    static func oneLine(_ text: String) -> String {
        var line = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = true
                continue
            }
            if scalar.properties.generalCategory == .control { continue }
            if pendingSpace, !line.isEmpty { line.unicodeScalars.append(" ") }
            pendingSpace = false
            line.unicodeScalars.append(scalar)
        }
        return line
    }

    private static func encodedSize(_ value: some Encodable) throws -> Int {
        try encoder.encode(value).count
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    // MARK: Codable: one flat object, as Fintoc sends it

    struct CodingKeys: CodingKey {
        static let typeKey = CodingKeys("type")
        static let messageKey = CodingKeys("message")
        static let named = [typeKey.stringValue, messageKey.stringValue]

        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .typeKey)
        message = try container.decodeIfPresent(String.self, forKey: .messageKey)
        var other: [String: JSONValue] = [:]
        for key in container.allKeys where !CodingKeys.named.contains(key.stringValue) {
            other[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.other = other
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .typeKey)
        try container.encodeIfPresent(message, forKey: .messageKey)
        for (key, value) in other where !CodingKeys.named.contains(key) {
            try container.encode(value, forKey: CodingKeys(key))
        }
    }
}
