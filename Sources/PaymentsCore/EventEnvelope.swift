import Foundation

/// A domain event in a CloudEvents 1.0 envelope, structured JSON mode: the exact body of every
/// message on `payments.events`.
///
/// Encoding writes the required attributes plus `subject` (the order id), `time`,
/// `datacontenttype`, `dataschema` (which names the version of `data`) and, when known, the
/// distributed-tracing extension's `traceparent`. Decoding accepts any extra extension
/// attributes, so producers may add some without breaking consumers.
public struct EventEnvelope: Sendable, Hashable {
    public let id: String
    public let source: String
    public let time: Date
    public let traceparent: String?
    public let event: DomainEvent
    /// The version of `data`'s schema: the current one for an envelope made here, the one named
    /// by `dataschema` for one read from a message.
    public let dataVersion: Int

    public var type: EventType { event.type }
    /// The storefront's order id; the storefront itself is `data.order.storefront`.
    public var subject: String { event.payload.order.id.rawValue }
    public var dataschema: String { event.type.dataSchema(version: dataVersion) }

    /// Wraps `event` with its deterministic id. `time` is when the envelope was made, cut to the
    /// milliseconds the wire carries; `traceparent` is a W3C trace context header value.
    public init(
        event: DomainEvent,
        source: String = EventContract.gatewaySource,
        time: Date = Date(),
        traceparent: String? = nil
    ) {
        self.id = event.id
        self.source = source
        self.time = Timestamp.truncatedToMilliseconds(time)
        self.traceparent = traceparent
        self.event = event
        dataVersion = event.type.currentVersion
    }

    private init(id: String, source: String, time: Date, traceparent: String?, event: DomainEvent, dataVersion: Int) {
        self.id = id
        self.source = source
        self.time = time
        self.traceparent = traceparent
        self.event = event
        self.dataVersion = dataVersion
    }

    /// The JSON body, keys sorted: the same envelope always gives the same bytes.
    public func encoded() throws -> Data {
        try Timestamp.jsonEncoder().encode(self)
    }

    /// Reads a message body; every way it can be wrong is an `EnvelopeError` with the reason.
    public static func decode(_ body: Data) throws(EnvelopeError) -> EventEnvelope {
        let envelope: EventEnvelope
        do {
            envelope = try Timestamp.jsonDecoder().decode(EventEnvelope.self, from: body)
        } catch let error as EnvelopeError {
            throw error
        } catch let error as DecodingError {
            throw .malformed(error.summary)
        } catch {
            throw .malformed("not JSON: \(error)")
        }
        do {
            try envelope.event.validate()
        } catch {
            throw .invalidData(error)
        }
        return envelope
    }

    /// The AMQP properties that mirror this envelope (`message_id` = id, `type` = type, …).
    public var messageProperties: EventMessageProperties {
        EventMessageProperties(id: id, type: type.rawValue, time: time, source: source, traceparent: traceparent)
    }
}

/// Values of the AMQP message that carries an envelope, independent of any AMQP library.
public struct EventMessageProperties: Sendable, Hashable {
    /// The properties of an envelope with these attributes; a store that kept them beside the
    /// body builds the message without decoding the body again.
    public init(id: String, type: String, time: Date, source: String, traceparent: String?) {
        routingKey = type
        messageID = id
        self.type = type
        contentType = EventContract.contentType
        deliveryMode = 2
        timestamp = Int64(time.timeIntervalSince1970.rounded(.down))
        appID = source
        headers = traceparent.map { [PaymentsTopology.Header.traceparent: $0] } ?? [:]
    }

    public let routingKey: String
    public let messageID: String
    public let type: String
    public let contentType: String
    /// 2: persistent.
    public let deliveryMode: UInt8
    /// Seconds since 1970, AMQP's timestamp unit.
    public let timestamp: Int64
    public let appID: String
    /// `traceparent` when the envelope has one.
    public let headers: [String: String]
}

/// Why a message body is not an event this code can act on.
public enum EnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not JSON, or an attribute is missing or has the wrong type.
    case malformed(String)
    case unsupportedSpecVersion(String)
    case unknownType(String)
    /// The `dataschema` names a version of the type's data this code does not read.
    case unsupportedDataSchema(type: EventType, dataschema: String)
    case unsupportedContentType(String)
    /// `data` decoded but breaks the contract's rules.
    case invalidData(ValidationError)

    public var description: String {
        switch self {
        case .malformed(let reason): "malformed event: \(reason)"
        case .unsupportedSpecVersion(let version):
            "unsupported CloudEvents specversion \"\(version)\"; expected \(EventContract.specVersion)"
        case .unknownType(let type): "unknown event type \"\(type)\""
        case .unsupportedDataSchema(let type, let schema):
            "unsupported dataschema \"\(schema)\" for \(type.rawValue); expected one of \(EventType.readableVersions.map { type.dataSchema(version: $0) }.joined(separator: ", "))"
        case .unsupportedContentType(let type): "unsupported datacontenttype \"\(type)\"; expected \(EventContract.dataContentType)"
        case .invalidData(let error): "invalid event data: \(error)"
        }
    }
}

extension EventEnvelope: Codable {
    enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, subject, time, datacontenttype, dataschema, traceparent, data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let specversion = try container.decode(String.self, forKey: .specversion)
        guard specversion == EventContract.specVersion else { throw EnvelopeError.unsupportedSpecVersion(specversion) }
        let rawType = try container.decode(String.self, forKey: .type)
        guard let type = EventType(rawValue: rawType) else { throw EnvelopeError.unknownType(rawType) }
        let contentType = try container.decodeIfPresent(String.self, forKey: .datacontenttype) ?? EventContract.dataContentType
        guard contentType == EventContract.dataContentType else { throw EnvelopeError.unsupportedContentType(contentType) }
        let dataschema = try container.decode(String.self, forKey: .dataschema)
        guard let dataVersion = EventType.readableVersions.first(where: { type.dataSchema(version: $0) == dataschema }) else {
            throw EnvelopeError.unsupportedDataSchema(type: type, dataschema: dataschema)
        }
        let id = try container.decode(String.self, forKey: .id)
        let source = try container.decode(String.self, forKey: .source)
        guard !id.isEmpty, !source.isEmpty else {
            throw EnvelopeError.malformed("id and source must not be empty")
        }
        let event = try DomainEvent.decodeData(type, from: try container.superDecoder(forKey: .data))
        let subject = try container.decode(String.self, forKey: .subject)
        guard subject == event.payload.order.id.rawValue else {
            throw EnvelopeError.malformed("subject \"\(subject)\" is not the order id \"\(event.payload.order.id)\"")
        }
        if dataVersion >= 2, event.payload.order.storefront == nil {
            throw EnvelopeError.invalidData(
                ValidationError(path: "data.order.storefront", code: "required", reason: "is required from data version 2 on"))
        }
        let traceparent = try container.decodeIfPresent(String.self, forKey: .traceparent)
        if let traceparent, !TraceContext.isValid(traceparent) {
            throw EnvelopeError.malformed("traceparent \"\(traceparent)\" is not a W3C trace context")
        }
        self.init(
            id: id,
            source: source,
            time: try container.decode(Date.self, forKey: .time),
            traceparent: traceparent,
            event: event,
            dataVersion: dataVersion
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(EventContract.specVersion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(type.rawValue, forKey: .type)
        try container.encode(subject, forKey: .subject)
        try container.encode(time, forKey: .time)
        try container.encode(EventContract.dataContentType, forKey: .datacontenttype)
        try container.encode(dataschema, forKey: .dataschema)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
        try event.encodeData(to: container.superEncoder(forKey: .data))
    }
}

/// W3C Trace Context `traceparent` values (`00-<32 hex>-<16 hex>-<2 hex>`).
public enum TraceContext {
    public static func isValid(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4,
            parts[0].count == 2, parts[0] != "ff",
            parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            // A later version may append fields, which a reader ignores (W3C Trace Context).
            parts.prefix(4).allSatisfy({ $0.allSatisfy(\.isLowercaseHexDigit) }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return false }
        // Version 00 has exactly four fields; later versions may append more.
        return parts[0] != "00" || parts.count == 4
    }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool {
        ("0"..."9").contains(self) || ("a"..."f").contains(self)
    }
}

extension DecodingError {
    /// One line naming the field and the problem, for error messages and dead-letter headers.
    var summary: String {
        switch self {
        case .keyNotFound(let key, let context):
            "missing \((context.codingPath + [key]).fieldPath)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\(context.codingPath.fieldPath): \(context.debugDescription)"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty
                ? context.debugDescription
                : "\(context.codingPath.fieldPath): \(context.debugDescription)"
        @unknown default:
            "\(self)"
        }
    }
}
