import Logging
import NIOCore
import Prometheus
import Synchronization

/// The shared state of one listener: how many connections are open, which to refuse, what to
/// count and when to say so in the log. Safe from any event loop.
public final class ConnectionLimiter: Sendable {
    public let limits: HTTPServerLimits
    /// Names the listener in logs and in the metrics' `listener` label (`public`, `admin`, …).
    public let listener: String
    private let metrics: ConnectionMetrics?
    private let logger: Logger
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let timedOut = Atomic<Int>(0)
    /// When the cap was last logged, and how many were refused since (one line per interval,
    /// not one per connection).
    private let capLog = Mutex<(last: ContinuousClock.Instant?, refusedSince: Int)>((nil, 0))
    static let capLogInterval: Duration = .seconds(10)

    /// - Parameter metrics: where to count; nil for a service without a metrics exposition.
    public init(limits: HTTPServerLimits, listener: String, metrics: ConnectionMetrics?, logger: Logger) {
        self.limits = limits
        self.listener = listener
        self.metrics = metrics
        self.logger = logger
    }

    /// Connections open now, refused so far, and cut for a slow request so far.
    public var openConnections: Int { open.load(ordering: .relaxed) }
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }
    public var requestTimeouts: Int { timedOut.load(ordering: .relaxed) }

    /// Takes a slot for `channel` until it closes, or answers false when every slot is taken.
    func admit(_ channel: any Channel) -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= limits.maxConnections else {
            open.subtract(1, ordering: .relaxed)
            refusedOne()
            return false
        }
        metrics?.open.increment()
        channel.closeFuture.whenComplete { _ in
            self.open.subtract(1, ordering: .relaxed)
            self.metrics?.open.decrement()
        }
        return true
    }

    private func refusedOne() {
        refused.add(1, ordering: .relaxed)
        metrics?.refused.increment()
        let report: Int? = capLog.withLock { state in
            state.refusedSince += 1
            let now = ContinuousClock.now
            if let last = state.last, now - last < Self.capLogInterval { return nil }
            defer { state = (now, 0) }
            return state.refusedSince
        }
        if let report {
            logger.warning(
                "connection limit reached: refusing new connections",
                metadata: [
                    "listener": "\(listener)", "max_connections": "\(limits.maxConnections)",
                    "refused_since_last_report": "\(report)",
                ])
        }
    }

    func requestTimedOut() {
        timedOut.add(1, ordering: .relaxed)
        metrics?.requestTimeouts.increment()
        logger.debug(
            "request not received in time: connection closed",
            metadata: [
                "listener": "\(listener)", "request_timeout": "\(limits.requestTimeout)",
            ])
    }
}

/// The listener's metrics in a service's own Prometheus registry:
/// `<namespace>_http_connections_open`, `<namespace>_http_connections_refused_total` and
/// `<namespace>_http_request_timeouts_total`, labelled by listener.
public struct ConnectionMetrics: Sendable {
    let open: Gauge
    let refused: Counter
    let requestTimeouts: Counter

    public init(registry: PrometheusCollectorRegistry, namespace: String, listener: String) {
        let labels = [("listener", listener)]
        open = registry.makeGauge(
            descriptor: .init(
                namespace: namespace, subsystem: "http", metricName: "connections", unitName: "open",
                helpText: "HTTP connections open now"),
            labels: labels
        )
        refused = registry.makeCounter(
            descriptor: .init(
                namespace: namespace, subsystem: "http", metricName: "connections_refused", unitName: "total",
                helpText: "HTTP connections refused (503 and closed) because the connection limit was reached"),
            labels: labels
        )
        requestTimeouts = registry.makeCounter(
            descriptor: .init(
                namespace: namespace, subsystem: "http", metricName: "request_timeouts", unitName: "total",
                helpText: "HTTP connections closed because a request's headers and body took longer than the request timeout"),
            labels: labels
        )
    }
}
