import Hummingbird
import HummingbirdCore
import NIOCore

/// How long a client may take and how many may be connected at once, for one HTTP listener.
///
/// Counted per listener, never per client address: the point is that slow or idle clients
/// cannot hold every file descriptor of the process, whoever they are.
public struct HTTPServerLimits: Sendable, Hashable {
    /// From the first byte of a request to the last byte of its body. A client still sending
    /// then is disconnected (no answer: it may be mid-body). Fintoc's webhook deliveries and
    /// storefront calls send everything in well under a second.
    public var requestTimeout: Duration
    /// How long a connection may stay open with no request in progress: after it is opened,
    /// and between requests on a kept-alive connection (Hummingbird's own idle timeout).
    public var idleTimeout: Duration
    /// Connections open at once; past it a new connection gets `503` and is closed at once.
    public var maxConnections: Int

    public init(requestTimeout: Duration = .seconds(15), idleTimeout: Duration = .seconds(75), maxConnections: Int = 512) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// Bounds the configuration files accept, so a typo cannot switch a limit off.
    public static let timeoutRange: ClosedRange<Double> = 0.1...3600
    public static let connectionsRange: ClosedRange<Int> = 1...100_000
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the limits of `limiter`: Hummingbird's idle timeout, plus the request
    /// deadline and the connection cap of this library (``LimitedHTTP1Channel``).
    public static func http1(limitedBy limiter: ConnectionLimiter) -> HTTPServerBuilder {
        .init { responder in
            LimitedHTTP1Channel(
                base: HTTP1Channel(
                    responder: responder,
                    configuration: .init(
                        additionalChannelHandlers: [RequestEndObserver()], idleTimeout: TimeAmount(limiter.limits.idleTimeout))
                ),
                limiter: limiter
            )
        }
    }
}
