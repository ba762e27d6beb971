import Foundation

/// Encodes `basic.publish` (method, content header and body frames) into one buffer so a batch
/// of publishes reaches the socket in a single write.
///
/// librabbitmq's `amqp_basic_publish` issues three `send` calls per message; under load that is
/// a TCP segment per message for the broker to read. The wire format is AMQP 0-9-1 with
/// RabbitMQ's field-table types, the same librabbitmq produces.
struct PublishEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends the frames of one publish; on a message the protocol cannot carry (a short
    /// string over 255 bytes, properties larger than a frame) it throws and leaves the buffer as
    /// it was.
    mutating func append(_ message: OutboundMessage, channel: UInt16, frameMax: Int) throws {
        let mark = bytes.count
        do {
            try appendFrames(message, channel: channel, frameMax: frameMax)
        } catch {
            bytes.removeSubrange(mark...)
            throw error
        }
    }

    private mutating func appendFrames(_ message: OutboundMessage, channel: UInt16, frameMax: Int) throws {
        // Method frame: basic.publish (class 60, method 40).
        var frame = beginFrame(type: 1, channel: channel)
        u16(60)
        u16(40)
        u16(0)
        try shortString(message.exchange, what: "exchange name")
        try shortString(message.routingKey, what: "routing key")
        u8(message.mandatory ? 1 : 0)
        endFrame(&frame)

        // Content header frame: class, weight, body size, property flags, properties.
        frame = beginFrame(type: 2, channel: channel)
        u16(60)
        u16(0)
        u64(UInt64(message.body.count))
        try properties(message.properties)
        // The header frame cannot be split: properties and headers past the negotiated frame
        // size would make the broker close the whole connection (501 FRAME_ERROR), taking every
        // other publish in flight with it. Refused here, for this message only.
        let headerPayload = bytes.count - frame - 4
        if headerPayload + 8 > frameMax {
            throw AMQPError.invalidMessage(
                "the properties and headers take \(headerPayload) bytes, more than the frame size \(frameMax) allows")
        }
        endFrame(&frame)

        // Body frames of at most frame-max minus the 8 bytes of framing.
        let chunk = max(1, frameMax - 8)
        message.body.withUnsafeBytes { body in
            var offset = 0
            while offset < body.count {
                let size = min(chunk, body.count - offset)
                u8(3)
                u16(channel)
                u32(UInt32(size))
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[offset..<(offset + size)]))
                u8(0xCE)
                offset += size
            }
        }
    }

    private mutating func properties(_ p: BasicProperties) throws {
        var flags: UInt16 = 0
        if p.contentType != nil { flags |= 1 << 15 }
        if p.contentEncoding != nil { flags |= 1 << 14 }
        if !p.headers.isEmpty { flags |= 1 << 13 }
        if p.deliveryMode != nil { flags |= 1 << 12 }
        if p.priority != nil { flags |= 1 << 11 }
        if p.correlationID != nil { flags |= 1 << 10 }
        if p.replyTo != nil { flags |= 1 << 9 }
        if p.expiration != nil { flags |= 1 << 8 }
        if p.messageID != nil { flags |= 1 << 7 }
        if p.timestamp != nil { flags |= 1 << 6 }
        if p.type != nil { flags |= 1 << 5 }
        if p.userID != nil { flags |= 1 << 4 }
        if p.appID != nil { flags |= 1 << 3 }
        u16(flags)
        if let v = p.contentType { try shortString(v, what: "content type") }
        if let v = p.contentEncoding { try shortString(v, what: "content encoding") }
        if !p.headers.isEmpty { try table(p.headers) }
        if let v = p.deliveryMode { u8(v.rawValue) }
        if let v = p.priority { u8(v) }
        if let v = p.correlationID { try shortString(v, what: "correlation id") }
        if let v = p.replyTo { try shortString(v, what: "reply-to") }
        if let v = p.expiration { try shortString(v, what: "expiration") }
        if let v = p.messageID { try shortString(v, what: "message id") }
        if let v = p.timestamp { u64(UInt64(max(0, v.timeIntervalSince1970.rounded(.down)))) }
        if let v = p.type { try shortString(v, what: "type") }
        if let v = p.userID { try shortString(v, what: "user id") }
        if let v = p.appID { try shortString(v, what: "app id") }
    }

    private mutating func table(_ table: FieldTable) throws {
        let lengthAt = bytes.count
        u32(0)
        for (key, value) in table {
            try shortString(key, what: "header name")
            try field(value)
        }
        patch32(at: lengthAt, UInt32(bytes.count - lengthAt - 4))
    }

    private mutating func field(_ value: FieldValue) throws {
        switch value {
        case .bool(let v):
            u8(UInt8(ascii: "t"))
            u8(v ? 1 : 0)
        case .int8(let v):
            u8(UInt8(ascii: "b"))
            u8(UInt8(bitPattern: v))
        case .uint8(let v):
            u8(UInt8(ascii: "B"))
            u8(v)
        case .int16(let v):
            u8(UInt8(ascii: "s"))
            u16(UInt16(bitPattern: v))
        case .int32(let v):
            u8(UInt8(ascii: "I"))
            u32(UInt32(bitPattern: v))
        case .int64(let v):
            u8(UInt8(ascii: "l"))
            u64(UInt64(bitPattern: v))
        case .float(let v):
            u8(UInt8(ascii: "f"))
            u32(v.bitPattern)
        case .double(let v):
            u8(UInt8(ascii: "d"))
            u64(v.bitPattern)
        case .decimal(let scale, let v):
            u8(UInt8(ascii: "D"))
            u8(scale)
            u32(v)
        case .string(let v):
            u8(UInt8(ascii: "S"))
            longString(v)
        case .bytes(let v):
            u8(UInt8(ascii: "x"))
            u32(UInt32(v.count))
            bytes.append(contentsOf: v)
        case .timestamp(let date):
            u8(UInt8(ascii: "T"))
            u64(UInt64(max(0, date.timeIntervalSince1970.rounded(.down))))
        case .array(let values):
            u8(UInt8(ascii: "A"))
            let lengthAt = bytes.count
            u32(0)
            for element in values { try field(element) }
            patch32(at: lengthAt, UInt32(bytes.count - lengthAt - 4))
        case .table(let nested):
            u8(UInt8(ascii: "F"))
            try table(nested)
        case .void: u8(UInt8(ascii: "V"))
        }
    }

    // MARK: Primitives (network byte order)

    private mutating func beginFrame(type: UInt8, channel: UInt16) -> Int {
        u8(type)
        u16(channel)
        let sizeAt = bytes.count
        u32(0)
        return sizeAt
    }

    private mutating func endFrame(_ sizeAt: inout Int) {
        patch32(at: sizeAt, UInt32(bytes.count - sizeAt - 4))
        u8(0xCE)
    }

    private mutating func u8(_ v: UInt8) { bytes.append(v) }

    private mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    private mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func patch32(at index: Int, _ v: UInt32) {
        bytes[index] = UInt8(truncatingIfNeeded: v >> 24)
        bytes[index + 1] = UInt8(truncatingIfNeeded: v >> 16)
        bytes[index + 2] = UInt8(truncatingIfNeeded: v >> 8)
        bytes[index + 3] = UInt8(truncatingIfNeeded: v)
    }

    private mutating func shortString(_ s: String, what: String) throws {
        let utf8 = s.utf8
        guard utf8.count <= 255 else {
            throw AMQPError.invalidMessage("the \(what) is \(utf8.count) bytes; AMQP allows 255")
        }
        u8(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func longString(_ s: String) {
        let utf8 = s.utf8
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}
