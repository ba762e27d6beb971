import Foundation
import Prometheus

/// The worker's Prometheus metrics, in a registry of its own (no process-wide bootstrap, so
/// several workers can run in one test process). Labels never carry ids or secrets. The names
/// are the ones the Grafana dashboard reads.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Unlabelled metrics, made once instead of looked up in the registry on every use.
    private let processingDuration: DurationHistogram
    private let holdsGauge: Gauge
    private let backlogGauge: Gauge

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    public init() {
        processingDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptors["worker_processing_duration_seconds"]!, buckets: Self.latencyBuckets)
        holdsGauge = registry.makeGauge(descriptor: Self.descriptors["worker_holds"]!)
        backlogGauge = registry.makeGauge(descriptor: Self.descriptors["worker_notification_backlog"]!)
        // Present from the start, so dashboards and alerts see zeros rather than gaps.
        for name in [
            "worker_retries_total", "worker_parked_total", "worker_backorders_total", "worker_emails_sent_total",
            "worker_emails_failed_total",
        ] {
            _ = counter(name)
        }
        holds(0)
        notificationBacklog(0)
    }

    private func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(descriptor: Self.descriptors[name] ?? Self.descriptor(name), labels: labels)
    }

    /// Built once: the per-message path only looks them up. Never mutated after initialisation;
    /// swift-prometheus does not mark its descriptor type Sendable.
    nonisolated(unsafe) static let descriptors: [String: MetricNameDescriptor] = Dictionary(
        uniqueKeysWithValues: help.keys.map { ($0, descriptor($0)) })

    /// `worker_messages_total` as swift-prometheus wants it: namespace, name and unit.
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        var parts = name.split(separator: "_").map(String.init)
        let unit = ["total", "seconds"].contains(parts.last ?? "") ? parts.removeLast() : ""
        return MetricNameDescriptor(
            namespace: parts[0], metricName: parts.dropFirst().joined(separator: "_"), unitName: unit,
            helpText: help[name] ?? "")
    }

    static let help: [String: String] = [
        "worker_messages_total": "Messages from fulfillment.payments by event type and outcome",
        "worker_processing_duration_seconds": "From taking a delivery in hand to its commit (or its retry or parking)",
        "worker_retries_total": "Messages sent to a retry queue after a transient failure",
        "worker_parked_total": "Messages parked in the dead-letter queue",
        "worker_holds": "Live stock holds (one per checkout and SKU)",
        "worker_backorders_total": "Paid orders the stock could not cover",
        "worker_emails_sent_total": "Customer emails handed to the SMTP server (or written as .eml files)",
        "worker_emails_failed_total": "Failed attempts to send a customer email",
        "worker_notification_backlog": "Customer emails waiting to be sent",
    ]

    func message(type: String, outcome: String, duration: Duration) {
        counter("worker_messages_total", [("type", type), ("outcome", outcome)]).increment()
        processingDuration.record(duration)
    }

    func retried() { counter("worker_retries_total").increment() }
    func parked() { counter("worker_parked_total").increment() }
    func backordered() { counter("worker_backorders_total").increment() }
    func emailSent() { counter("worker_emails_sent_total").increment() }
    func emailFailed() { counter("worker_emails_failed_total").increment() }

    func holds(_ count: Int) {
        holdsGauge.set(Double(count))
    }

    func notificationBacklog(_ count: Int) {
        backlogGauge.set(Double(count))
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}
