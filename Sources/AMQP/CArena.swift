import CRabbitMQ
import Foundation

/// Scratch memory for the C structures one request needs (strings, tables, properties),
/// taken from a librabbitmq pool and recycled after the request, so building a publish costs
/// no heap allocation once the pool has grown. Confined to the connection thread.
final class CArena {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    init(pageSize: Int = 16_384) {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, pageSize)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Frees everything handed out since the last recycle (keeping the pages for reuse).
    func recycle() {
        recycle_amqp_pool(pool)
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { copy(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ raw: [UInt8]) -> amqp_bytes_t {
        raw.withUnsafeBytes { copy($0) }
    }

    /// A NUL-terminated copy for C APIs that take `char const *`.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let raw = amqp_pool_alloc(pool, utf8.count + 1)!
            if let base = utf8.baseAddress { raw.copyMemory(from: base, byteCount: utf8.count) }
            raw.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return UnsafePointer(raw.assumingMemoryBound(to: CChar.self))
        }
    }

    private func copy(_ source: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard source.count > 0, let base = source.baseAddress else { return amqp_bytes_t(len: 0, bytes: nil) }
        var out = amqp_bytes_t()
        amqp_pool_alloc_bytes(pool, source.count, &out)
        out.bytes.copyMemory(from: base, byteCount: source.count)
        return out
    }

    func table(_ table: FieldTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = amqp_pool_alloc(pool, MemoryLayout<amqp_table_entry_t>.stride * table.count)!
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        var index = 0
        // Sorted keys give a stable encoding, which keeps equal declarations byte-identical.
        for key in table.keys.sorted() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: field(table[key]!))
            index += 1
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func field(_ value: FieldValue) -> amqp_field_value_t {
        var out = amqp_field_value_t()
        switch value {
        case .bool(let v):
            out.kind = UInt8(ascii: "t")
            out.value.boolean = v ? 1 : 0
        case .int8(let v):
            out.kind = UInt8(ascii: "b")
            out.value.i8 = v
        case .uint8(let v):
            out.kind = UInt8(ascii: "B")
            out.value.u8 = v
        case .int16(let v):
            out.kind = UInt8(ascii: "s")
            out.value.i16 = v
        case .int32(let v):
            out.kind = UInt8(ascii: "I")
            out.value.i32 = v
        case .int64(let v):
            out.kind = UInt8(ascii: "l")
            out.value.i64 = v
        case .float(let v):
            out.kind = UInt8(ascii: "f")
            out.value.f32 = v
        case .double(let v):
            out.kind = UInt8(ascii: "d")
            out.value.f64 = v
        case .decimal(let scale, let v):
            out.kind = UInt8(ascii: "D")
            out.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let v):
            out.kind = UInt8(ascii: "S")
            out.value.bytes = bytes(v)
        case .bytes(let v):
            out.kind = UInt8(ascii: "x")
            out.value.bytes = bytes(v)
        case .timestamp(let date):
            out.kind = UInt8(ascii: "T")
            out.value.u64 = UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
        case .array(let values):
            out.kind = UInt8(ascii: "A")
            if values.isEmpty {
                out.value.array = amqp_array_t(num_entries: 0, entries: nil)
            } else {
                let entries = amqp_pool_alloc(pool, MemoryLayout<amqp_field_value_t>.stride * values.count)!
                    .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
                for (index, element) in values.enumerated() { entries[index] = field(element) }
                out.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
            }
        case .table(let nested):
            out.kind = UInt8(ascii: "F")
            out.value.table = table(nested)
        case .void:
            out.kind = UInt8(ascii: "V")
        }
        return out
    }

    /// The C form of `properties`, valid until the next recycle.
    func properties(_ p: BasicProperties) -> amqp_basic_properties_t {
        var out = amqp_basic_properties_t()
        var flags: amqp_flags_t = 0
        func set(_ value: String?, _ flag: Int32, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) {
            guard let value else { return }
            out[keyPath: field] = bytes(value)
            flags |= amqp_flags_t(flag)
        }
        set(p.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG, \.content_type)
        set(p.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, \.content_encoding)
        set(p.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG, \.correlation_id)
        set(p.replyTo, AMQP_BASIC_REPLY_TO_FLAG, \.reply_to)
        set(p.expiration, AMQP_BASIC_EXPIRATION_FLAG, \.expiration)
        set(p.messageID, AMQP_BASIC_MESSAGE_ID_FLAG, \.message_id)
        set(p.type, AMQP_BASIC_TYPE_FLAG, \.type)
        set(p.userID, AMQP_BASIC_USER_ID_FLAG, \.user_id)
        set(p.appID, AMQP_BASIC_APP_ID_FLAG, \.app_id)
        if !p.headers.isEmpty {
            out.headers = table(p.headers)
            flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG)
        }
        if let mode = p.deliveryMode {
            out.delivery_mode = mode.rawValue
            flags |= amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        }
        if let priority = p.priority {
            out.priority = priority
            flags |= amqp_flags_t(AMQP_BASIC_PRIORITY_FLAG)
        }
        if let timestamp = p.timestamp {
            out.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970.rounded(.down)))
            flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        out._flags = flags
        return out
    }
}

/// Reading librabbitmq's decoded structures into Swift values (which copies them out of the
/// connection's frame pools before those are recycled).
enum CDecode {
    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let base = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }

    static func byteArray(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard bytes.len > 0, let base = bytes.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }

    static func table(_ table: amqp_table_t) -> FieldTable {
        guard table.num_entries > 0, let entries = table.entries else { return [:] }
        var out = FieldTable(minimumCapacity: Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            out[string(entries[index].key)] = field(entries[index].value)
        }
        return out
    }

    static func field(_ value: amqp_field_value_t) -> FieldValue {
        switch value.kind {
        case UInt8(ascii: "t"): .bool(value.value.boolean != 0)
        case UInt8(ascii: "b"): .int8(value.value.i8)
        case UInt8(ascii: "B"): .uint8(value.value.u8)
        case UInt8(ascii: "s"): .int16(value.value.i16)
        case UInt8(ascii: "u"): .int32(Int32(value.value.u16))
        case UInt8(ascii: "I"): .int32(value.value.i32)
        case UInt8(ascii: "i"): .int64(Int64(value.value.u32))
        case UInt8(ascii: "l"): .int64(value.value.i64)
        case UInt8(ascii: "L"): .int64(Int64(bitPattern: value.value.u64))
        case UInt8(ascii: "f"): .float(value.value.f32)
        case UInt8(ascii: "d"): .double(value.value.f64)
        case UInt8(ascii: "D"): .decimal(scale: value.value.decimal.decimals, value: value.value.decimal.value)
        case UInt8(ascii: "S"): .string(string(value.value.bytes))
        case UInt8(ascii: "x"): .bytes(byteArray(value.value.bytes))
        case UInt8(ascii: "T"): .timestamp(Date(timeIntervalSince1970: TimeInterval(value.value.u64)))
        case UInt8(ascii: "F"): .table(table(value.value.table))
        case UInt8(ascii: "A"):
            if value.value.array.num_entries > 0, let entries = value.value.array.entries {
                .array((0..<Int(value.value.array.num_entries)).map { field(entries[$0]) })
            } else {
                .array([])
            }
        default: .void
        }
    }

    static func properties(_ p: amqp_basic_properties_t) -> BasicProperties {
        let flags = p._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        func text(_ flag: Int32, _ bytes: amqp_bytes_t) -> String? { has(flag) ? string(bytes) : nil }
        return BasicProperties(
            contentType: text(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type),
            contentEncoding: text(AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? table(p.headers) : [:],
            deliveryMode: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? BasicProperties.DeliveryMode(rawValue: p.delivery_mode) : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? p.priority : nil,
            correlationID: text(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id),
            replyTo: text(AMQP_BASIC_REPLY_TO_FLAG, p.reply_to),
            expiration: text(AMQP_BASIC_EXPIRATION_FLAG, p.expiration),
            messageID: text(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(p.timestamp)) : nil,
            type: text(AMQP_BASIC_TYPE_FLAG, p.type),
            userID: text(AMQP_BASIC_USER_ID_FLAG, p.user_id),
            appID: text(AMQP_BASIC_APP_ID_FLAG, p.app_id)
        )
    }
}
