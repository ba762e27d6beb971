import Foundation
import Hummingbird
import Prometheus

/// The gateway's Prometheus metrics, in a registry of its own (no process-wide bootstrap, so
/// several applications can run in one test process). Labels never carry secrets or ids.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    static var httpRequests: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests by route pattern, method and status")
    }

    static var httpDuration: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "HTTP request latency by route pattern and method")
    }

    static var fintocDuration: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "fintoc", metricName: "request_duration", unitName: "seconds",
            helpText: "Latency of calls to Fintoc, retries included")
    }

    static var fintocErrors: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "fintoc", metricName: "errors", unitName: "total",
            helpText: "Failed calls to Fintoc by operation and error code")
    }

    static var outboxDepth: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "outbox", metricName: "depth", unitName: "rows",
            helpText: "Domain events waiting for the broker's acknowledgement")
    }

    static var outboxAge: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "outbox", metricName: "oldest_age", unitName: "seconds",
            helpText: "Age of the oldest event waiting in the outbox")
    }

    static var publishDuration: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "relay", metricName: "publish_confirm_duration", unitName: "seconds",
            helpText: "From sending a batch to the broker's last confirm of it, per message, by outcome")
    }

    static var published: MetricNameDescriptor {
        .init(
            namespace: "gateway", subsystem: "relay", metricName: "publishes", unitName: "total",
            helpText: "Publishes by outcome (acked, nacked, returned, connection_lost)")
    }

    static var webhooks: MetricNameDescriptor {
        .init(
            namespace: "gateway", metricName: "webhooks", unitName: "total",
            helpText: "Verified webhooks by outcome (applied, history, unchanged, contradiction, unmatched, ignored, duplicate) and source")
    }

    static var webhookRejections: MetricNameDescriptor {
        .init(
            namespace: "gateway", metricName: "webhook_rejections", unitName: "total",
            helpText: "Webhooks refused by reason (missing_header, malformed, stale, future, no_match, bad_event, too_large)")
    }

    static var leaseHeld: MetricNameDescriptor {
        .init(
            namespace: "gateway", metricName: "lease_held", unitName: "",
            helpText: "1 while this process holds the named lease and runs that singleton (relay, reconciler, idempotency_janitor)")
    }

    public init() {}

    func lease(_ name: String, held: Bool) {
        registry.makeGauge(descriptor: Self.leaseHeld, labels: [("name", name)]).set(Double(held ? 1 : 0))
    }

    func webhookTakenIn(outcome: String, source: String) {
        registry.makeCounter(descriptor: Self.webhooks, labels: [("outcome", outcome), ("source", source)]).increment()
    }

    func webhookRejected(reason: String) {
        registry.makeCounter(descriptor: Self.webhookRejections, labels: [("reason", reason)]).increment()
    }

    func outbox(depth: Int, oldestAgeSeconds: Double?) {
        registry.makeGauge(descriptor: Self.outboxDepth).set(Double(depth))
        registry.makeGauge(descriptor: Self.outboxAge).set(oldestAgeSeconds ?? 0)
    }

    func publishFinished(outcome: String, duration: Duration) {
        registry.makeCounter(descriptor: Self.published, labels: [("outcome", outcome)]).increment()
        registry.makeDurationHistogram(descriptor: Self.publishDuration, labels: [("outcome", outcome)], buckets: Self.latencyBuckets)
            .record(duration)
    }

    func requestFinished(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.httpRequests, labels: [("route", route), ("method", method), ("status", "\(status)")])
            .increment()
        registry.makeDurationHistogram(
            descriptor: Self.httpDuration, labels: [("route", route), ("method", method)], buckets: Self.latencyBuckets
        )
        .record(duration)
    }

    /// One call to Fintoc; `outcome` is `ok` or the error code.
    func fintocCall(operation: String, outcome: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.fintocDuration, labels: [("operation", operation)], buckets: Self.latencyBuckets)
            .record(duration)
        if outcome != "ok" {
            registry.makeCounter(descriptor: Self.fintocErrors, labels: [("operation", operation), ("code", outcome)]).increment()
        }
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}

/// Counts and times every request by its route pattern (never the concrete path, which
/// carries ids).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        metrics.requestFinished(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
            status: Int(response.status.code), duration: ContinuousClock.now - started
        )
        return response
    }
}
