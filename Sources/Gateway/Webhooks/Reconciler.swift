import Fintoc
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle

/// Re-reads from Fintoc what webhooks should have settled and did not (docs/architecture.md rule 6), and
/// feeds what it learns through the webhook path, marked `reconciliation`:
///
/// - checkouts marked for review (a contradicting or incomplete webhook), first;
/// - checkouts still open (or waiting for the customer's action) past `expires_at` + `grace`;
/// - pending payments, every `pendingEvery` (a bank may take days to settle).
///
/// What Fintoc answers is authoritative: it may move a final state (e.g. a payment a webhook
/// called failed that Fintoc says succeeded), which is how a contradiction is settled.
///
/// The service runs its passes only while it holds the `reconciler` lease, so with several
/// replicas one of them reconciles; `reconcile --now` (no lease) runs a pass wherever it is asked.
struct Reconciler: Service {
    let store: GatewayStore
    var lease: Lease? = nil
    let fintoc: FintocClient
    let ingestor: WebhookIngestor
    let metrics: GatewayMetrics
    let interval: TimeInterval
    let grace: TimeInterval
    let pendingEvery: TimeInterval
    /// Most checkouts read from Fintoc in one pass (Fintoc rate-limits an organisation).
    var batchLimit = 200
    let logger: Logger

    func run() async throws {
        guard interval > 0 else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            if let lease, await !lease.isHeld() { continue }
            let report = await pass()
            if report.examined > 0 {
                logger.debug(
                    "reconciliation pass",
                    metadata: ["examined": "\(report.examined)", "changed": "\(report.changed)", "failed": "\(report.failed)"])
            }
        }
        await lease?.release()
    }

    /// One pass over every due checkout, in order: review, overdue, pending. `everythingOpen`
    /// re-reads every checkout not yet final, due or not (an operator's `reconcile --now --all`).
    func pass(now: Date = Date(), everythingOpen: Bool = false) async -> ReconcileReport {
        var report = ReconcileReport()
        let due: [CheckoutRecord]
        do {
            due = try await dueCheckouts(now: now, everythingOpen: everythingOpen)
        } catch {
            logger.error("reconciliation could not read the store", metadata: ["error": "\(error)"])
            return report
        }
        for checkout in due {
            if Task.isCancelled { break }
            if let lease, await !lease.isHeld() { break }
            report.examined += 1
            do {
                let items = try await reread(checkout, now: now)
                var changed = false
                for item in items {
                    let outcome = try await ingestor.ingest(item)
                    metrics.webhookTakenIn(outcome: outcome.label, source: "reconciliation")
                    if case .recorded(let result, _, let events, _) = outcome {
                        report.events += events
                        changed = changed || result == .applied || events > 0
                    }
                }
                try await store.markReconciled(checkout.id, at: now)
                if changed { report.changed += 1 } else { report.unchanged += 1 }
            } catch {
                report.failed += 1
                logger.warning(
                    "reconciliation could not re-read a checkout", metadata: ["checkout_id": "\(checkout.id)", "error": "\(error)"])
            }
        }
        return report
    }

    /// The checkouts due now: marked for review, overdue by `grace`, or pending for longer than
    /// `pendingEvery`; with `everythingOpen`, every checkout not yet final.
    func dueCheckouts(now: Date, everythingOpen: Bool = false) async throws -> [CheckoutRecord] {
        try await store.checkoutsToReconcile(
            overdueBefore: everythingOpen ? Date.distantFuture : now.addingTimeInterval(-grace),
            pendingBefore: everythingOpen ? Date.distantFuture : now.addingTimeInterval(-pendingEvery),
            everythingOpen: everythingOpen, limit: batchLimit)
    }

    /// Reads the checkout's object from Fintoc and states it as events, as a webhook would.
    func reread(_ checkout: CheckoutRecord, now: Date) async throws -> [IngestItem] {
        let stamp = Int64((now.timeIntervalSince1970 * 1000).rounded())
        switch checkout.ui {
        case .paymentIntent:
            let intent = try await fintoc.paymentIntent(checkout.providerID)
            guard PaymentStatus(rawValue: intent.status.rawValue) != nil else { return [] }
            return [
                try item(
                    type: "payment_intent.\(intent.status.rawValue)", object: intent, objectID: intent.id, mode: intent.mode, stamp: stamp,
                    now: now)
            ]
        case .redirect, .widget:
            let session = try await fintoc.checkoutSession(checkout.providerID, api: checkout.ui == .widget ? .v1 : .v2)
            var items: [IngestItem] = []
            // A failed attempt leaves the session open: its own status is what there is to say.
            if let intent = session.paymentResource?.paymentIntent, [.failed, .rejected].contains(intent.status) {
                items.append(
                    try item(
                        type: "payment_intent.\(intent.status.rawValue)", object: intent, objectID: intent.id, mode: intent.mode,
                        stamp: stamp, now: now))
            }
            if [.finished, .expired].contains(session.status) {
                items.append(
                    try item(
                        type: "checkout_session.\(session.status.rawValue)", object: session, objectID: session.id, mode: session.mode,
                        stamp: stamp, now: now))
            }
            return items
        }
    }

    private func item(type: String, object: some Encodable, objectID: String, mode: FintocMode?, stamp: Int64, now: Date) throws
        -> IngestItem
    {
        let body = try FintocJSON.encoder().encode(
            SynthesisedEvent(
                id: "rec_\(objectID)_\(type.split(separator: ".").last ?? "")_\(stamp)", type: type, mode: mode, createdAt: now,
                data: object))
        let event = try WebhookNormaliser.normalise(body)
        return IngestItem(event: event, body: body, source: .reconciliation, receivedAt: now)
    }
}

/// A Fintoc-shaped event made from an object read back from Fintoc.
private struct SynthesisedEvent<Object: Encodable>: Encodable {
    var id: String
    var object = "event"
    var type: String
    var mode: FintocMode?
    var createdAt: Date
    var data: Object

    enum CodingKeys: String, CodingKey {
        case id, object, type, mode, data
        case createdAt = "created_at"
    }
}

/// What one reconciliation pass did.
public struct ReconcileReport: Sendable, Hashable, Codable {
    /// Checkouts read back from Fintoc.
    public var examined = 0
    /// Those whose re-read changed something (state or events).
    public var changed = 0
    public var unchanged = 0
    /// Those Fintoc could not be asked about (retried on the next pass).
    public var failed = 0
    /// Domain events written.
    public var events = 0
}
