import CRabbitMQ
import Foundation
import Logging

/// One live librabbitmq connection and the synchronous operations on it.
///
/// Not thread-safe, like librabbitmq itself: a `ConnectionCore` is created, used and destroyed on
/// its connection's dedicated thread only, which is why it is neither `Sendable` nor shared.
final class ConnectionCore {
    let state: amqp_connection_state_t
    let arena = CArena()
    private var destroyed = false
    private let logger: Logger

    /// Opens the socket (TCP or TLS), logs in with the connection name and capabilities, and
    /// sets the timeouts that keep a dead broker from hanging the thread.
    init(configuration: AMQPConfiguration, logger: Logger) throws {
        guard let state = amqp_new_connection() else {
            throw AMQPError.socket(status: AMQP_STATUS_NO_MEMORY.rawValue, message: "cannot allocate a connection")
        }
        self.state = state
        self.logger = logger
        do {
            try open(configuration)
        } catch {
            amqp_destroy_connection(state)
            destroyed = true
            throw error
        }
    }

    deinit {
        destroy()
    }

    private func open(_ configuration: AMQPConfiguration) throws {
        let socket: OpaquePointer?
        if let tls = configuration.tls {
            guard FileManager.default.isReadableFile(atPath: tls.caFile) else {
                throw AMQPError.invalidConfiguration("the CA file \(tls.caFile) does not exist or is not readable")
            }
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw AMQPError.socket(status: AMQP_STATUS_SSL_ERROR.rawValue, message: "cannot create a TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
            try check(amqp_ssl_socket_set_cacert(socket, tls.caFile), "loading the CA file \(tls.caFile)")
            if let certificate = tls.certificateFile, let key = tls.keyFile {
                try check(amqp_ssl_socket_set_key(socket, certificate, key), "loading the client certificate and key")
            }
        } else {
            socket = amqp_tcp_socket_new(state)
            guard socket != nil else { throw AMQPError.socket(status: AMQP_STATUS_NO_MEMORY.rawValue, message: "cannot create a socket") }
        }
        var connectTimeout = timeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &connectTimeout)
        if status == AMQP_STATUS_TIMEOUT.rawValue {
            throw AMQPError.timeout("connecting to \(configuration.host):\(configuration.port)")
        }
        try check(status, "connecting to \(configuration.host):\(configuration.port)")
        var handshakeTimeout = timeval(configuration.connectTimeout)
        try check(amqp_set_handshake_timeout(state, &handshakeTimeout), "setting the handshake timeout")
        var rpcTimeout = timeval(configuration.rpcTimeout)
        try check(amqp_set_rpc_timeout(state, &rpcTimeout), "setting the RPC timeout")

        // consumer_cancel_notify makes the broker tell us when it cancels a consumer (queue
        // deleted) instead of silently going quiet.
        let clientProperties: FieldTable = [
            "connection_name": .string(configuration.connectionName),
            "product": "Cobro AMQP (librabbitmq)",
            "capabilities": [
                "consumer_cancel_notify": true,
                "publisher_confirms": true,
                "basic.nack": true,
                "connection.blocked": true,
                "authentication_failure_close": true,
            ],
        ]
        var properties = arena.table(clientProperties)
        let reply = cobro_login_plain(
            state, configuration.virtualHost, 0, Int32(configuration.frameMax),
            Int32(configuration.heartbeat), &properties, configuration.user, configuration.password)
        arena.recycle()
        try check(reply, channel: 0)
    }

    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Sends connection.close and waits briefly for close-ok, then frees everything.
    func close() {
        guard !destroyed else { return }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        amqp_set_rpc_timeout(state, &timeout)
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        destroy()
    }

    /// Frees the connection and closes its socket without talking to the broker.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        amqp_destroy_connection(state)
    }

    // MARK: Channels

    func openChannel(_ channel: UInt16) throws {
        _ = amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    func closeChannel(_ channel: UInt16) throws {
        try check(amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS), channel: channel)
    }

    func confirmSelect(_ channel: UInt16) throws {
        _ = amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    func qos(_ channel: UInt16, prefetch: UInt16) throws {
        _ = amqp_basic_qos(state, channel, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    func consume(_ channel: UInt16, queue: String, tag: String, exclusive: Bool, arguments: FieldTable) throws {
        defer { arena.recycle() }
        _ = amqp_basic_consume(
            state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, exclusive ? 1 : 0,
            arena.table(arguments))
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    func cancel(_ channel: UInt16, tag: String) throws {
        defer { arena.recycle() }
        _ = amqp_basic_cancel(state, channel, arena.bytes(tag))
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    // MARK: Topology

    func declare(_ topology: Topology, on channel: UInt16) throws {
        for exchange in topology.exchanges where !exchange.name.isEmpty && !exchange.name.hasPrefix("amq.") {
            defer { arena.recycle() }
            _ = amqp_exchange_declare(
                state, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0,
                exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, exchange.internal ? 1 : 0,
                arena.table(exchange.arguments))
            try check(amqp_get_rpc_reply(state), channel: channel)
            logger.trace("declared exchange", metadata: ["amqp.exchange": "\(exchange.name)"])
        }
        for queue in topology.queues {
            defer { arena.recycle() }
            _ = amqp_queue_declare(
                state, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.arguments))
            try check(amqp_get_rpc_reply(state), channel: channel)
            logger.trace("declared queue", metadata: ["amqp.queue": "\(queue.name)"])
        }
        for binding in topology.bindings {
            defer { arena.recycle() }
            switch binding.destinationType {
            case .queue:
                _ = amqp_queue_bind(
                    state, channel, arena.bytes(binding.destination), arena.bytes(binding.source),
                    arena.bytes(binding.routingKey), arena.table(binding.arguments))
            case .exchange:
                _ = amqp_exchange_bind(
                    state, channel, arena.bytes(binding.destination), arena.bytes(binding.source),
                    arena.bytes(binding.routingKey), arena.table(binding.arguments))
            }
            try check(amqp_get_rpc_reply(state), channel: channel)
        }
    }

    func inspectQueue(_ name: String, on channel: UInt16) throws -> QueueStatus {
        defer { arena.recycle() }
        let ok = amqp_queue_declare(state, channel, arena.bytes(name), 1, 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
        try check(amqp_get_rpc_reply(state), channel: channel)
        guard let ok else { throw AMQPError.socket(status: AMQP_STATUS_BAD_AMQP_DATA.rawValue, message: "no queue.declare-ok") }
        return QueueStatus(
            name: CDecode.string(ok.pointee.queue), messageCount: Int(ok.pointee.message_count),
            consumerCount: Int(ok.pointee.consumer_count))
    }

    func deleteQueue(_ name: String, on channel: UInt16) throws -> Int {
        defer { arena.recycle() }
        let ok = amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
        return Int(ok?.pointee.message_count ?? 0)
    }

    func purgeQueue(_ name: String, on channel: UInt16) throws -> Int {
        defer { arena.recycle() }
        let ok = amqp_queue_purge(state, channel, arena.bytes(name))
        try check(amqp_get_rpc_reply(state), channel: channel)
        return Int(ok?.pointee.message_count ?? 0)
    }

    func deleteExchange(_ name: String, on channel: UInt16) throws {
        defer { arena.recycle() }
        _ = amqp_exchange_delete(state, channel, arena.bytes(name), 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    // MARK: Messages

    func publish(_ message: OutboundMessage, on channel: UInt16) throws {
        defer { arena.recycle() }
        var properties = arena.properties(message.properties)
        let exchange = arena.bytes(message.exchange)
        let routingKey = arena.bytes(message.routingKey)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, channel, exchange, routingKey, message.mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        try check(status, "publishing")
    }

    var frameMax: Int { Int(amqp_get_frame_max(state)) }

    /// Whether librabbitmq already holds frames or bytes it read (during a synchronous RPC, say)
    /// that `poll()` on the socket cannot see: the thread must read them before sleeping.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// Writes already-encoded frames straight to the (non-blocking) socket, all of them, so the
    /// stream is back on a frame boundary before librabbitmq writes anything (a heartbeat).
    func write(_ bytes: [UInt8], timeout: Duration) throws {
        let socket = socketDescriptor
        let deadline = ContinuousClock.now + timeout
        try bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = send(socket, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written > 0 {
                    offset += written
                    continue
                }
                let error = errno
                guard written < 0, error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                    throw AMQPError.socket(
                        status: AMQP_STATUS_SOCKET_ERROR.rawValue,
                        message: "writing to the broker: \(String(cString: strerror(error)))")
                }
                guard ContinuousClock.now < deadline else { throw AMQPError.timeout("writing to the broker") }
                var pollfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollfd, 1, 250)
            }
        }
    }

    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16) throws {
        let status: Int32
        switch settlement {
        case .ack(let multiple):
            status = amqp_basic_ack(state, channel, tag, multiple ? 1 : 0)
        case .nack(let requeue, let multiple):
            status = amqp_basic_nack(state, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0)
        case .reject(let requeue):
            status = amqp_basic_reject(state, channel, tag, requeue ? 1 : 0)
        }
        try check(status, "settling a delivery")
    }

    /// The next frame already received or receivable without waiting (this call also sends a
    /// heartbeat when one is due and notices a silent broker); nil when there is none.
    func nextFrame(_ frame: inout amqp_frame_t) throws -> Bool {
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_OK.rawValue { return true }
        if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
        throw AMQPError(status: status, context: "reading from the broker")
    }

    /// Lets librabbitmq recycle the memory of frames already copied out.
    func releaseBuffers() {
        amqp_maybe_release_buffers(state)
    }

    func sendChannelCloseOk(_ channel: UInt16) {
        var ok = amqp_channel_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, channel, cobro_channel_close_ok_method, &ok)
    }

    func sendConnectionCloseOk() {
        var ok = amqp_connection_close_ok_t(dummy: 0)
        _ = amqp_send_method(state, 0, cobro_connection_close_ok_method, &ok)
    }

    // MARK: Errors

    private func check(_ status: Int32, _ context: String) throws {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw AMQPError(status: status, context: context)
    }

    /// Turns an RPC reply into an error, answering the broker's close so the channel (or the
    /// connection) is properly shut on both sides.
    func check(_ reply: amqp_rpc_reply_t, channel: UInt16) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw AMQPError(status: reply.library_error, context: "waiting for the broker's reply")
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            let method = reply.reply
            if method.id == cobro_channel_close_method, let decoded = method.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let error = AMQPError.channelClosed(
                    replyCode: close.reply_code, replyText: CDecode.string(close.reply_text),
                    classID: close.class_id, methodID: close.method_id)
                sendChannelCloseOk(channel)
                throw error
            }
            if method.id == cobro_connection_close_method, let decoded = method.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let error = AMQPError.connectionClosed(replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
                sendConnectionCloseOk()
                throw error
            }
            throw AMQPError.socket(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue, message: "unexpected method \(method.id) from the broker")
        default:
            throw AMQPError.socket(status: AMQP_STATUS_CONNECTION_CLOSED.rawValue, message: "no reply from the broker")
        }
    }
}

/// What a passive queue declaration tells about a queue.
public struct QueueStatus: Sendable, Hashable {
    public var name: String
    public var messageCount: Int
    public var consumerCount: Int
}

extension AMQPError {
    init(status: Int32, context: String) {
        if status == AMQP_STATUS_TIMEOUT.rawValue || status == AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue {
            self = .timeout("\(context): \(String(cString: amqp_error_string2(status)))")
        } else {
            self = .socket(status: status, message: "\(context): \(String(cString: amqp_error_string2(status)))")
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
