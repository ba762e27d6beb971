import NIOCore
import NIOHTTPTypes

/// Sent toward the head of the pipeline when a request's last part has been decoded.
struct RequestReceivedEvent: Sendable {}

/// First in the pipeline. Arms a deadline at the first byte of a request and closes the
/// connection if the request's end has not been decoded by then (slowloris: headers or body
/// trickled in). ``RequestEndObserver``, after the HTTP decoder, disarms it.
///
/// Bytes that arrive while no request is in progress start the next one, so on a kept-alive
/// connection each request gets the full time. Pipelined bytes that came with the end of the
/// previous request start their clock at the next read, one read late at worst.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let limiter: ConnectionLimiter
    private var deadline: Scheduled<Void>?

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline == nil {
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limiter.limits.requestTimeout)) {
                self.deadline = nil
                self.limiter.requestTimedOut()
                context.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is RequestReceivedEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        disarm()
        promise?.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

/// After the HTTP decoder: tells ``RequestDeadlineHandler`` when a request has been received
/// whole (its `.end` part).
final class RequestEndObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            context.triggerUserOutboundEvent(RequestReceivedEvent(), promise: nil)
        }
        context.fireChannelRead(data)
    }
}

/// For a connection over the cap: answers `503` with `Retry-After` once it is active, closes,
/// and passes nothing on (Fintoc retries a delivery that was not answered 2xx).
final class RefuseConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var refused = false
    static let body = #"{"error":{"type":"api_error","code":"too_many_connections","message":"too many connections; try again shortly"}}"#
    static let answer =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
        + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"

    func handlerAdded(context: ChannelHandlerContext) {
        // Added while the channel is being set up: close only once the setup is done.
        if context.channel.isActive {
            context.eventLoop.assumeIsolated().execute { self.refuse(context) }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: Self.answer)), promise: nil)
        context.close(promise: nil)
    }
}
