import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 child channel with two handlers in front of it: the connection cap
/// (a refused connection gets `503` and is closed before any byte of it is parsed) and the
/// request deadline, which must see raw bytes to start counting at a request's first byte.
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limiter: ConnectionLimiter

    /// Called by the server bootstrap on the new channel's event loop, with an empty pipeline.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            let pipeline = channel.pipeline.syncOperations
            if limiter.admit(channel) {
                try pipeline.addHandler(RequestDeadlineHandler(limiter: limiter))
            } else {
                try pipeline.addHandler(RefuseConnectionHandler())
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // A refused channel still gets the HTTP handlers, so `handle` has its usual value; no
        // byte ever reaches them and the channel closes at once.
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
